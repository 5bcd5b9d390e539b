import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A sender address on one of the workspace's domains. Sendable is read from the domain, never stored. */
@Entity('addresses')
export class Address {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'workspace_id', type: 'uuid' })
  workspaceId: string;

  @Column({ name: 'domain_id', type: 'uuid' })
  domainId: string;

  /** Normalized (trimmed, lower-cased), unique per workspace. */
  @Column({ type: 'varchar', length: 254 })
  email: string;

  /** Display name used in the From header. */
  @Column({ type: 'varchar', length: 200, nullable: true })
  name: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;
}

import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
} from 'typeorm';
import { Workspace } from '../../auth/entities/workspace.entity';
import { Domain } from './domain.entity';

/** A sender address on one of the workspace's domains. Sendable is read from the domain, never stored. */
@Entity('addresses')
@Index('addresses_workspace_email_key', { synchronize: false })
@Index('addresses_workspace_idx', { synchronize: false })
@Index('addresses_domain_idx', { synchronize: false })
export class Address {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'workspace_id', type: 'uuid' })
  workspaceId: string;

  @ManyToOne(() => Workspace, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'workspace_id', foreignKeyConstraintName: 'addresses_workspace_id_fkey' })
  workspace?: Workspace;

  @Column({ name: 'domain_id', type: 'uuid' })
  domainId: string;

  @ManyToOne(() => Domain, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'domain_id', foreignKeyConstraintName: 'addresses_domain_id_fkey' })
  domain?: Domain;

  /** Normalized (trimmed, lower-cased), unique per workspace. */
  @Column({ type: 'varchar', length: 254 })
  email: string;

  /** Display name used in the From header. */
  @Column({ type: 'varchar', length: 200, nullable: true })
  name: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;
}

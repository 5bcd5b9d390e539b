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

@Entity('domains')
@Index('domains_workspace_name_key', { synchronize: false })
@Index('domains_workspace_idx', { synchronize: false })
export class Domain {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'workspace_id', type: 'uuid' })
  workspaceId: string;

  @ManyToOne(() => Workspace, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'workspace_id', foreignKeyConstraintName: 'domains_workspace_id_fkey' })
  workspace?: Workspace;

  /** Normalized hostname, unique per workspace. */
  @Column({ type: 'varchar', length: 253 })
  name: string;

  /** The random part of the ownership record `_leadpush.<name>`. */
  @Column({ name: 'verification_token', type: 'varchar', length: 64 })
  verificationToken: string;

  @Column({ name: 'dkim_selector', type: 'varchar', length: 63 })
  dkimSelector: string;

  /** Base64 SPKI DER, as published in the DKIM record. */
  @Column({ name: 'dkim_public_key', type: 'text' })
  dkimPublicKey: string;

  /** Sealed by sealSecret (libs/common); never selected unless asked for, never sent to clients. */
  @Column({ name: 'dkim_private_key', type: 'text', select: false })
  dkimPrivateKey: string;

  /** Set once both records were found (or by the operator); the domain is verified exactly when set. */
  @Column({ name: 'verified_at', type: 'timestamptz', nullable: true })
  verifiedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;
}

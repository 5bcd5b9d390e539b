import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
} from 'typeorm';
import type { ApiKeyMode } from '../api-key-token';
import { Workspace } from './workspace.entity';

@Entity('api_keys')
@Index('api_keys_token_hash_key', { synchronize: false })
@Index('api_keys_workspace_idx', { synchronize: false })
@Check('api_keys_mode_check', `mode IN ('live', 'test')`)
export class ApiKey {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'workspace_id', type: 'uuid' })
  workspaceId: string;

  @ManyToOne(() => Workspace, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'workspace_id', foreignKeyConstraintName: 'api_keys_workspace_id_fkey' })
  workspace?: Workspace;

  @Column({ type: 'varchar', length: 200 })
  name: string;

  /** `test` keys send test messages (SPEC §14): never handed to SMTP. */
  @Column({ type: 'varchar', length: 4, default: 'live' })
  mode: ApiKeyMode;

  /** The first characters of the token, safe to show so a user can tell keys apart. */
  @Column({ name: 'token_prefix', type: 'varchar', length: 16 })
  tokenPrefix: string;

  /** SHA-256 of the token; the token itself is never stored. */
  @Column({ name: 'token_hash', type: 'bytea', select: false })
  tokenHash: Buffer;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt: Date | null;
}

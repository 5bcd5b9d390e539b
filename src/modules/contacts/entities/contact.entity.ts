import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import { Address } from '../../addresses/entities/address.entity';
import { Workspace } from '../../auth/entities/workspace.entity';

@Entity('contacts')
@Index('contacts_workspace_email_key', { synchronize: false })
@Index('contacts_workspace_idx', { synchronize: false })
@Index('contacts_delivery_address_idx', { synchronize: false })
export class Contact {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'workspace_id', type: 'uuid' })
  workspaceId: string;

  @ManyToOne(() => Workspace, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'workspace_id', foreignKeyConstraintName: 'contacts_workspace_id_fkey' })
  workspace?: Workspace;

  /** Normalized (trimmed, lower-cased), unique per workspace. */
  @Column({ type: 'varchar', length: 254 })
  email: string;

  @Column({ name: 'first_name', type: 'varchar', length: 200, nullable: true })
  firstName: string | null;

  @Column({ name: 'last_name', type: 'varchar', length: 200, nullable: true })
  lastName: string | null;

  /** The sender address this contact is sent from when it is sendable; cleared when the address is deleted. */
  @Column({ name: 'delivery_address_id', type: 'uuid', nullable: true })
  deliveryAddressId: string | null;

  @ManyToOne(() => Address, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'delivery_address_id', foreignKeyConstraintName: 'contacts_delivery_address_id_fkey' })
  deliveryAddress?: Address | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}

import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Sending domains, their sender addresses, and contacts.
 * - Deleting a domain deletes its addresses; deleting an address clears the
 *   delivery route of the contacts that pointed at it.
 * - A domain is verified exactly when `verified_at` is set; whether an address
 *   is sendable is read from its domain, never stored.
 */
export class DomainsAddressesContacts1764150100000 implements MigrationInterface {
  name = 'DomainsAddressesContacts1764150100000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE domains (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        workspace_id uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        name varchar(253) NOT NULL,
        verification_token varchar(64) NOT NULL,
        dkim_selector varchar(63) NOT NULL,
        dkim_public_key text NOT NULL,
        dkim_private_key text NOT NULL,
        verified_at timestamptz,
        created_at timestamptz(3) NOT NULL DEFAULT now()
      )`);
    await db.query(`CREATE UNIQUE INDEX domains_workspace_name_key ON domains (workspace_id, name)`);
    await db.query(`CREATE INDEX domains_workspace_idx ON domains (workspace_id, created_at DESC, id DESC)`);

    await db.query(`
      CREATE TABLE addresses (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        workspace_id uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        domain_id uuid NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
        email varchar(254) NOT NULL,
        name varchar(200),
        created_at timestamptz(3) NOT NULL DEFAULT now()
      )`);
    await db.query(`CREATE UNIQUE INDEX addresses_workspace_email_key ON addresses (workspace_id, email)`);
    await db.query(
      `CREATE INDEX addresses_workspace_idx ON addresses (workspace_id, created_at DESC, id DESC)`,
    );
    await db.query(`CREATE INDEX addresses_domain_idx ON addresses (domain_id)`);

    await db.query(`
      CREATE TABLE contacts (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        workspace_id uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        email varchar(254) NOT NULL,
        first_name varchar(200),
        last_name varchar(200),
        delivery_address_id uuid REFERENCES addresses(id) ON DELETE SET NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`CREATE UNIQUE INDEX contacts_workspace_email_key ON contacts (workspace_id, email)`);
    await db.query(
      `CREATE INDEX contacts_workspace_idx ON contacts (workspace_id, created_at DESC, id DESC)`,
    );
    await db.query(
      `CREATE INDEX contacts_delivery_address_idx ON contacts (delivery_address_id)
         WHERE delivery_address_id IS NOT NULL`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE contacts`);
    await db.query(`DROP TABLE addresses`);
    await db.query(`DROP TABLE domains`);
  }
}

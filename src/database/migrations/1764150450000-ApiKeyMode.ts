import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An API key is `live` or `test` (SPEC §4, §14): messages accepted with a
 * test key go through every status and event but never reach SMTP.
 */
export class ApiKeyMode1764150450000 implements MigrationInterface {
  name = 'ApiKeyMode1764150450000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(
      `ALTER TABLE api_keys ADD COLUMN mode varchar(4) NOT NULL DEFAULT 'live'
         CONSTRAINT api_keys_mode_check CHECK (mode IN ('live', 'test'))`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE api_keys DROP COLUMN mode`);
  }
}

import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An idempotency key remembers which request holds it (the email request's
 * id): only that request may complete or free it, so a request that lost its
 * key to a retry can no longer store work or overwrite the answer.
 */
export class IdempotencyOwner1764150300000 implements MigrationInterface {
  name = 'IdempotencyOwner1764150300000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE idempotency_keys ADD COLUMN owner uuid`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE idempotency_keys DROP COLUMN owner`);
  }
}

import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * webhook_attempts.endpoint_id is a copy of its delivery's endpoint_id, kept
 * for the per-endpoint listing index; the delivery's own foreign key already
 * ties it to the endpoint (an endpoint deleted takes its deliveries, and they
 * their attempts). Its second foreign key made every recorded attempt check
 * and KEY SHARE-lock the endpoint's row: the one row every settle of that
 * endpoint, from every worker, locked again.
 */
export class WebhookAttemptEndpointKey1764180000000 implements MigrationInterface {
  name = 'WebhookAttemptEndpointKey1764180000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE webhook_attempts DROP CONSTRAINT webhook_attempts_endpoint_id_fkey`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(
      `ALTER TABLE webhook_attempts ADD CONSTRAINT webhook_attempts_endpoint_id_fkey
         FOREIGN KEY (endpoint_id) REFERENCES webhook_endpoints (id) ON DELETE CASCADE`,
    );
  }
}

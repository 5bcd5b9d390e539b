import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The sweeper reads unfinished messages of one status in index order, a batch
 * after the last row it saw: pending and sending ones by (updated_at, id),
 * deferred ones by when they were due (next_attempt_at, id). Each batch is one
 * index range scan, without a sort over the backlog.
 */
export class SweepIndex1764150350000 implements MigrationInterface {
  name = 'SweepIndex1764150350000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX messages_unfinished_idx`);
    await db.query(
      `CREATE INDEX messages_unfinished_idx ON messages (status, updated_at, id) WHERE status IN ('pending', 'sending')`,
    );
    await db.query(
      `CREATE INDEX messages_deferred_due_idx ON messages (next_attempt_at, id) WHERE status = 'deferred'`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX messages_deferred_due_idx`);
    await db.query(`DROP INDEX messages_unfinished_idx`);
    await db.query(
      `CREATE INDEX messages_unfinished_idx ON messages (status, updated_at) WHERE status IN ('pending', 'deferred', 'sending')`,
    );
  }
}

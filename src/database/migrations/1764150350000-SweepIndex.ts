import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The sweeper reads unfinished messages of one status in (updated_at, id)
 * order, a batch after the last one it saw: the index ends with id so each
 * batch is one index range scan, without a sort over the backlog.
 */
export class SweepIndex1764150350000 implements MigrationInterface {
  name = 'SweepIndex1764150350000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX messages_unfinished_idx`);
    await db.query(
      `CREATE INDEX messages_unfinished_idx ON messages (status, updated_at, id) WHERE status IN ('pending', 'deferred', 'sending')`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX messages_unfinished_idx`);
    await db.query(
      `CREATE INDEX messages_unfinished_idx ON messages (status, updated_at) WHERE status IN ('pending', 'deferred', 'sending')`,
    );
  }
}

import { createTestApp, createWorkspace, TestApp, Workspace } from './app';
import { AppProcess, startAppProcess } from './processes';
import { createSender, Sender } from './sending';
import { SmtpSink, startSmtpSink } from './smtp-sink';

/**
 * An API-only app, a workspace with a verified sender, an SMTP sink, and
 * worker processes (the production build) started on demand on the same
 * database and queue: for tests about workers as separate processes.
 */
export interface WorkerStack {
  smtp: SmtpSink;
  api: TestApp;
  ws: Workspace;
  sender: Sender;
  startWorker(env?: Record<string, string>): Promise<AppProcess>;
  /** Sends one email per 50 recipients. */
  send(recipients: string[], subject: string): Promise<void>;
  /** How many messages are in each status. */
  statuses(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

/** `apiEnv`: more settings of the API app (the workers take theirs in startWorker). */
export async function startWorkerStack(apiEnv: Record<string, string> = {}): Promise<WorkerStack> {
  const smtp = await startSmtpSink();
  const api = await createTestApp({ APP_ROLE: 'api', SMTP_URL: smtp.url, ...apiEnv });
  const ws = await createWorkspace(api);
  const sender = await createSender(api, ws);
  const workers: AppProcess[] = [];
  return {
    smtp,
    api,
    ws,
    sender,
    async startWorker(env = {}) {
      const worker = await startAppProcess({
        APP_ROLE: 'worker',
        DATABASE_URL: api.config.databaseUrl,
        REDIS_URL: api.config.redisUrl,
        QUEUE_PREFIX: api.config.queuePrefix,
        SMTP_URL: smtp.url,
        SWEEP_INTERVAL_MS: '500',
        SWEEP_GRACE_MS: '2000',
        ...env,
      });
      workers.push(worker);
      return worker;
    },
    async send(recipients, subject) {
      for (let i = 0; i < recipients.length; i += 50) {
        await ws
          .api('post', '/v1/emails')
          .send({ from: sender.email, to: recipients.slice(i, i + 50), subject, text: 'x' })
          .expect(202);
      }
    },
    async statuses() {
      const { rows } = await api.db.query(`SELECT status, count(*)::int AS n FROM messages GROUP BY status`);
      return Object.fromEntries(rows.map((r) => [r.status, r.n]));
    },
    async close() {
      await Promise.all(workers.map((w) => w.kill('SIGKILL')));
      await api.close();
      await smtp.close();
    },
  };
}

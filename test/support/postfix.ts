import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const POSTFIX = '/usr/sbin/postfix';

export interface PrivatePostfix {
  readonly port: number;
  /** The domain whose mailboxes it delivers (virtual); unknown ones are accepted, then bounced. */
  readonly domain: string;
  /** The mbox of a mailbox made at start, '' while nothing arrived. */
  mailbox(local: string): Promise<string>;
  /** Its mail log, to explain a failure. */
  log(): Promise<string>;
  stop(): Promise<void>;
}

export interface PostfixOptions {
  /** The port Postfix's smtpd listens on, on 127.0.0.1. */
  port: number;
  /** Mail to this domain (its own DSNs, sent to the return paths) goes to `[127.0.0.1]:bouncePort`. */
  bounceDomain: string;
  bouncePort: number;
  mailboxes: string[];
}

/**
 * A Postfix instance of the test's own (Debian's `postfix` package, run as
 * root like CI): its config, queue and data directories in a temp dir, smtpd
 * on 127.0.0.1:`port` only, nothing chrooted, never the system instance. It
 * accepts any recipient at its domain (smtpd_reject_unlisted_recipient = no)
 * and its virtual delivery bounces unknown ones afterwards, as a real relay
 * does; retries and queue runs are a second apart.
 */
export async function startPostfix(options: PostfixOptions): Promise<PrivatePostfix> {
  if (!existsSync(POSTFIX)) throw new Error(`${POSTFIX} is missing: apt-get install postfix (.ci/run does)`);
  const dir = await mkdtemp(join(tmpdir(), 'leadpush-postfix-'));
  await chmod(dir, 0o755);
  const [etc, queue, data, mail] = ['etc', 'queue', 'data', 'mail'].map((name) => join(dir, name));
  await Promise.all([etc, queue, data, mail].map((path) => mkdir(path)));
  const { stdout } = await run('id', ['-u', 'postfix']);
  const { stdout: gid } = await run('id', ['-g', 'postfix']);
  const [uid, group] = [Number(stdout.trim()), Number(gid.trim())];
  await chown(data, uid, group);
  await chown(mail, uid, group);
  const domain = 'mailbox.leadpush.test';
  const main = {
    compatibility_level: '3.6',
    config_directory: etc,
    queue_directory: queue,
    data_directory: data,
    mail_owner: 'postfix',
    setgid_group: 'postdrop',
    maillog_file: join(dir, 'maillog'),
    maillog_file_prefixes: dir,
    myhostname: 'postfix.leadpush.test',
    mydomain: 'leadpush.test',
    mydestination: '',
    local_recipient_maps: '',
    inet_interfaces: '127.0.0.1',
    inet_protocols: 'ipv4',
    mynetworks: '127.0.0.0/8',
    smtpd_peername_lookup: 'no',
    smtpd_relay_restrictions: 'permit_mynetworks, reject_unauth_destination',
    smtpd_reject_unlisted_recipient: 'no',
    virtual_mailbox_domains: domain,
    virtual_mailbox_base: mail,
    virtual_mailbox_maps: `texthash:${join(etc, 'vmailbox')}`,
    virtual_uid_maps: `static:${uid}`,
    virtual_gid_maps: `static:${group}`,
    transport_maps: `texthash:${join(etc, 'transport')}`,
    smtp_host_lookup: 'native',
    queue_run_delay: '1s',
    minimal_backoff_time: '1s',
    maximal_backoff_time: '2s',
    delay_warning_time: '0h',
  };
  await writeFile(
    join(etc, 'main.cf'),
    Object.entries(main)
      .map(([k, v]) => `${k} = ${v}\n`)
      .join(''),
  );
  await writeFile(join(etc, 'vmailbox'), options.mailboxes.map((m) => `${m}@${domain} ${m}\n`).join(''));
  await writeFile(join(etc, 'transport'), `${options.bounceDomain} smtp:[127.0.0.1]:${options.bouncePort}\n`);
  const services = [
    `127.0.0.1:${options.port} inet n - n - - smtpd`,
    'pickup unix n - n 60 1 pickup',
    'cleanup unix n - n - 0 cleanup',
    'qmgr unix n - n 300 1 qmgr',
    'rewrite unix - - n - - trivial-rewrite',
    'bounce unix - - n - 0 bounce',
    'defer unix - - n - 0 bounce',
    'trace unix - - n - 0 bounce',
    'verify unix - - n - 1 verify',
    'flush unix n - n 1000? 0 flush',
    'proxymap unix - - n - - proxymap',
    'smtp unix - - n - - smtp',
    'relay unix - - n - - smtp',
    'showq unix n - n - - showq',
    'error unix - - n - - error',
    'retry unix - - n - - error',
    'discard unix - - n - - discard',
    'virtual unix - n n - - virtual',
    'anvil unix - - n - 1 anvil',
    'scache unix - - n - 1 scache',
    'postlog unix-dgram n - n - 1 postlogd',
  ];
  await writeFile(join(etc, 'master.cf'), services.map((line) => `${line}\n`).join(''));
  const log = () => readFile(join(dir, 'maillog'), 'utf8').catch(() => '');
  const stop = async () => {
    await run(POSTFIX, ['-c', etc, 'stop']).catch(() =>
      run(POSTFIX, ['-c', etc, 'abort']).catch(() => undefined),
    );
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await run(POSTFIX, ['-c', etc, 'start']);
    await untilListening(options.port);
  } catch (error) {
    const text = await log();
    await stop();
    throw new Error(`Postfix did not start: ${(error as Error).message}\n${text.slice(-2000)}`);
  }
  return {
    port: options.port,
    domain,
    mailbox: (local) => readFile(join(mail, local), 'utf8').catch(() => ''),
    log,
    stop,
  };
}

async function untilListening(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on port ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

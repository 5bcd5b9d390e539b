import type { MessageEvent } from '../types';
import { Badge, Time } from './ui';

/* One event of a message's timeline (SPEC §8: `{type, at, detail}`). */

/** The SMTP reply as the server wrote it; the code is prefixed only when the text lacks it. */
function smtpReply(code: unknown, response: unknown): string {
  const text = typeof response === 'string' ? response : '';
  if (code === undefined || code === null) return text;
  return text.startsWith(String(code)) ? text : `${String(code)} ${text}`.trim();
}

const DSN_FIELDS = ['status', 'diagnostic_code', 'remote_mta'];
const DSN_LABELS: Record<string, string> = {
  status: 'status',
  diagnostic_code: 'diagnostic code',
  remote_mta: 'remote MTA',
};
const SHOWN_APART = ['smtp_code', 'smtp_response', 'attempt', 'dsn', ...DSN_FIELDS];

/** One event: its type and time, the SMTP reply, the DSN fields of a bounce report, and any other detail. */
export function TimelineEvent({ event }: { event: MessageEvent }) {
  const d = event.detail ?? {};
  const smtp = smtpReply(d.smtp_code, d.smtp_response);
  const dsn = DSN_FIELDS.filter((key) => d[key] !== undefined && d[key] !== null);
  const rest = Object.entries(d).filter(([key]) => !SHOWN_APART.includes(key));
  return (
    <li className={`timeline-item timeline-${event.type}`}>
      <div className="timeline-head">
        <Badge value={event.type} />
        <Time value={event.at} />
        {d.attempt !== undefined && <span className="muted">attempt {String(d.attempt)}</span>}
      </div>
      {smtp && (
        <p className="smtp-reply">
          <span className="visually-hidden">SMTP reply: </span>
          <code>{smtp}</code>
        </p>
      )}
      {dsn.length > 0 && (
        <div className="dsn">
          {d.dsn === true && <p className="dsn-title">Delivery status notification (RFC 3464)</p>}
          <dl>
            {dsn.map((key) => (
              <div key={key} className="dsn-row">
                <dt>{DSN_LABELS[key]}</dt>
                <dd className="mono">{String(d[key])}</dd>
              </div>
            ))}
          </dl>
        </div>
      )}
      {rest.length > 0 && (
        <dl className="event-detail">
          {rest.map(([key, value]) => (
            <div key={key} className="dsn-row">
              <dt>{key.replace(/_/g, ' ')}</dt>
              <dd>{typeof value === 'string' ? value : JSON.stringify(value)}</dd>
            </div>
          ))}
        </dl>
      )}
    </li>
  );
}

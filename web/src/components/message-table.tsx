import { Link } from '../router';
import type { MessageSummary } from '../types';
import { Badge, DataTable, Time } from './ui';

/** Messages as table rows; at phone width each row is a compact card (styles.css). */
export function MessageTable({ messages }: { messages: MessageSummary[] }) {
  return (
    <DataTable
      caption="Messages, newest first"
      columns={['Status', 'Recipient', 'Subject', 'Tag', 'Created']}
      className="messages-table"
    >
      {messages.map((message) => (
        <tr key={message.uuid} data-testid="message-row">
          <td data-label="Status" className="cell-status">
            <Badge value={message.status} />
            {message.test && <Badge value="test" />}
          </td>
          <td data-label="Recipient" className="cell-recipient">
            <Link to={`/messages/${message.uuid}`} className="strong-link">
              {message.recipient}
            </Link>
            {message.type === 'bcc' && <span className="muted"> (bcc)</span>}
          </td>
          <td data-label="Subject" className="truncate cell-subject">
            {message.subject}
          </td>
          <td data-label="Tag" className="cell-tag">
            {message.tag ?? <span className="muted">—</span>}
          </td>
          <td data-label="Created" className="cell-created">
            <Time value={message.created_at} />
          </td>
        </tr>
      ))}
    </DataTable>
  );
}

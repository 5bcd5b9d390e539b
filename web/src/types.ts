/** The shapes of the public REST API's answers (SPEC §4–§12), as the dashboard reads them. */

export const MESSAGE_STATUSES = [
  'scheduled',
  'pending',
  'sending',
  'sent',
  'deferred',
  'bounced',
  'failed',
  'suppressed',
  'canceled',
  'complained',
] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

/** Statuses that will change by themselves soon: the lists poll while one is shown. */
export const IN_FLIGHT: readonly string[] = ['pending', 'sending', 'deferred'];

export interface MessageSummary {
  uuid: string;
  recipient: string;
  type: 'to' | 'bcc';
  from: string;
  subject: string;
  status: MessageStatus;
  tag: string | null;
  contact_id: string | null;
  created_at: string;
  scheduled_at: string | null;
  source: 'api' | 'smtp';
  test: boolean;
}

export interface MessageEvent {
  type: string;
  at: string;
  detail: Record<string, unknown>;
}

export interface Message extends MessageSummary {
  attachments: { filename: string; content_type: string; size: number }[];
  events: MessageEvent[];
}

export interface DnsRecord {
  type: string;
  name: string;
  value: string;
}

export interface Domain {
  id: string;
  name: string;
  status: 'pending' | 'verified';
  records: DnsRecord[];
  verified_at: string | null;
  created_at: string;
}

export interface DnsCheck {
  name: string;
  expected: string;
  found: boolean;
  status: string;
  detail?: string;
}

export interface DomainVerification extends Domain {
  checks: Record<string, DnsCheck>;
}

export interface Address {
  id: string;
  email: string;
  name: string | null;
  domain_id: string;
  sendable: boolean;
  created_at: string;
}

export interface Contact {
  id: string;
  email: string;
  first_name: string | null;
  last_name: string | null;
  delivery_address_id: string | null;
  created_at: string;
}

export interface Suppression {
  email: string;
  reason: string;
  created_at: string;
}

export interface Webhook {
  id: string;
  url: string;
  events: string[];
  enabled: boolean;
  created_at: string;
}

export interface CreatedWebhook extends Webhook {
  secret: string;
}

export interface WebhookDelivery {
  id: string;
  event_id: string;
  type: string;
  attempt: number;
  status_code: number | null;
  error: string | null;
  at: string;
  next_attempt_at: string | null;
}

/** Event types a webhook can subscribe to (SPEC §8 and §12). */
export const WEBHOOK_EVENTS = [...MESSAGE_STATUSES, 'delayed'].map((type) => `message.${type}`);

export interface ApiKey {
  id: string;
  name: string;
  mode: 'live' | 'test';
  token_prefix: string;
  created_at: string;
}

export interface CreatedApiKey {
  id: string;
  name: string;
  mode: 'live' | 'test';
  token: string;
}

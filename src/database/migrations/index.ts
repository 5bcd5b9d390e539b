import { Foundation1764150000000 } from './1764150000000-Foundation';
import { DomainsAddressesContacts1764150100000 } from './1764150100000-DomainsAddressesContacts';
import { Messages1764150200000 } from './1764150200000-Messages';
import { IdempotencyOwner1764150300000 } from './1764150300000-IdempotencyOwner';
import { SweepIndex1764150350000 } from './1764150350000-SweepIndex';
import { SendPipeline1764150400000 } from './1764150400000-SendPipeline';
import { ApiKeyMode1764150450000 } from './1764150450000-ApiKeyMode';
import { AttachmentRetention1764150500000 } from './1764150500000-AttachmentRetention';
import { RawContent1764150600000 } from './1764150600000-RawContent';
import { Webhooks1764160000000 } from './1764160000000-Webhooks';
import { InboundReports1764170000000 } from './1764170000000-InboundReports';
import { WebhookAttemptEndpointKey1764180000000 } from './1764180000000-WebhookAttemptEndpointKey';

/** Every migration, in order. A new migration is added here as well. */
export const migrations = [
  Foundation1764150000000,
  DomainsAddressesContacts1764150100000,
  Messages1764150200000,
  IdempotencyOwner1764150300000,
  SweepIndex1764150350000,
  SendPipeline1764150400000,
  ApiKeyMode1764150450000,
  AttachmentRetention1764150500000,
  RawContent1764150600000,
  Webhooks1764160000000,
  InboundReports1764170000000,
  WebhookAttemptEndpointKey1764180000000,
];

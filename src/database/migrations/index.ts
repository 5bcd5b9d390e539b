import { Foundation1764150000000 } from './1764150000000-Foundation';
import { DomainsAddressesContacts1764150100000 } from './1764150100000-DomainsAddressesContacts';

/** Every migration, in order. A new migration is added here as well. */
export const migrations = [Foundation1764150000000, DomainsAddressesContacts1764150100000];

/** A sendable sender address as the sending path sees it. */
export interface SenderAddress {
  id: string;
  email: string;
  name: string | null;
  domainId: string;
  domainName: string;
}

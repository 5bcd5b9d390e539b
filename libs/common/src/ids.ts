const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a canonical UUID; malformed ids are answered like unknown ones (404). */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

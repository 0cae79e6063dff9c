/** Postgres-style log sequence numbers (`16/B374D848`): formatting and ordering. */
export function formatLsn(value: bigint): string {
  return `${(value >> 32n).toString(16).toUpperCase()}/${(value & 0xffffffffn).toString(16).toUpperCase()}`;
}

export function parseLsn(text: string): bigint {
  const match = /^([0-9A-Fa-f]+)\/([0-9A-Fa-f]+)$/.exec(text);
  if (!match) throw new Error(`not an LSN: ${text}`);
  return (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`);
}

/** True when `lsn` is after `since` (an absent `since` means "from the beginning"). */
export function lsnAfter(lsn: string, since: string | undefined): boolean {
  return since === undefined || parseLsn(lsn) > parseLsn(since);
}

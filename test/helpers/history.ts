/**
 * A workflow history as text to search for a plain string such as a secret: its JSON with every payload decoded
 * (payload `data` is bytes, or base64 in the history JSON the CLI prints), then every byte array once more as
 * base64, so a string can hide neither in decoded nor in encoded bytes.
 */
export function historyText(history: unknown): string {
  const encoded: string[] = [];
  const json = JSON.stringify(history, (key, value: unknown) => {
    if (value instanceof Uint8Array) {
      encoded.push(Buffer.from(value).toString('base64'));
      return Buffer.from(value).toString('utf8');
    }
    const v = value as { type?: unknown; data?: unknown } | null;
    if (v && v.type === 'Buffer' && Array.isArray(v.data)) return Buffer.from(v.data as number[]).toString('utf8');
    if (key === 'data' && typeof value === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(value)) {
      return Buffer.from(value, 'base64').toString('utf8');
    }
    return value;
  });
  return [json, ...encoded].join('\n');
}

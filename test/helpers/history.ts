/**
 * A history as text with every payload decoded (payload `data` is base64 in the history JSON), so a test can
 * search it for a plain string such as a secret.
 */
export function historyText(history: unknown): string {
  return JSON.stringify(history, (key, value: unknown) => {
    if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
    const v = value as { type?: unknown; data?: unknown } | null;
    if (v && v.type === 'Buffer' && Array.isArray(v.data)) return Buffer.from(v.data as number[]).toString('utf8');
    if (key === 'data' && typeof value === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(value)) {
      return Buffer.from(value, 'base64').toString('utf8');
    }
    return value;
  });
}

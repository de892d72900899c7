import type { Config } from '../../contracts/config';
import { loadConfig } from '../../contracts/config';

// maildev's REST API. Other tests (and other engineers' runs) read the same mailbox, so mail is only ever found by
// what names it (an operation id header, an export prefix and its recipient), never cleared.

export interface ReceivedMail {
  id: string;
  subject: string;
  html: string;
  text: string;
  headers: Record<string, string>;
  to: { address: string; name: string }[];
  from: { address: string; name: string }[];
  messageId?: string;
}

type MailSettings = Pick<Config, 'MAILDEV_WEB_PORT'>;

/** Every message the catcher holds (the stack's, or the one of `config`, e.g. the chaos tests' private stack). */
export async function allMail(config: MailSettings = loadConfig()): Promise<ReceivedMail[]> {
  const res = await fetch(`http://127.0.0.1:${config.MAILDEV_WEB_PORT}/api/email`);
  if (!res.ok) throw new Error(`maildev answered ${res.status}`);
  return (await res.json()) as ReceivedMail[];
}

export async function mailForOperation(operationId: string, config?: MailSettings): Promise<ReceivedMail[]> {
  return (await allMail(config)).filter((m) => m.headers['x-gitlab-background-operation-id'] === operationId);
}

/** Mail for this recipient that mentions the export prefix. */
export async function mailForExport(
  config: MailSettings,
  address: string,
  exportPrefix: string,
): Promise<ReceivedMail[]> {
  return (await allMail(config)).filter(
    (m) => m.to.some((t) => t.address === address) && m.text.includes(exportPrefix),
  );
}

/**
 * Waits until `read` finds at least one message, then a little longer, so that a second copy (which would arrive
 * right behind the first) is caught too; returns what it finds then, or nothing after `timeoutMs`.
 */
export async function waitForMail(read: () => Promise<ReceivedMail[]>, timeoutMs = 20_000): Promise<ReceivedMail[]> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await read()).length > 0) {
      await new Promise((r) => setTimeout(r, 1500));
      return read();
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return [];
}

export function waitForOperationMail(
  operationId: string,
  timeoutMs = 20_000,
  config?: MailSettings,
): Promise<ReceivedMail[]> {
  return waitForMail(() => mailForOperation(operationId, config), timeoutMs);
}

import { loadConfig } from '../../../contracts/config';

// maildev's REST API. Another engineer's tests read the same mailbox, so mail is only ever found by the
// operation id header, never cleared.

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

export async function allMail(): Promise<ReceivedMail[]> {
  const res = await fetch(`http://127.0.0.1:${loadConfig().MAILDEV_WEB_PORT}/api/email`);
  if (!res.ok) throw new Error(`maildev answered ${res.status}`);
  return (await res.json()) as ReceivedMail[];
}

export async function mailForOperation(operationId: string): Promise<ReceivedMail[]> {
  return (await allMail()).filter((m) => m.headers['x-gitlab-background-operation-id'] === operationId);
}

/** Waits until at least one message for the operation arrived, then a little longer to catch a duplicate. */
export async function waitForOperationMail(operationId: string, timeoutMs = 20_000): Promise<ReceivedMail[]> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const found = await mailForOperation(operationId);
    if (found.length > 0) {
      await new Promise((r) => setTimeout(r, 1500));
      return mailForOperation(operationId);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return [];
}

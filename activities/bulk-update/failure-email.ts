// Security::BackgroundOperationMailer#failure_notification: the report sent to the user who started an
// operation that had failures. Names, paths and messages come from users (project names, category names), so
// every one of them is HTML-escaped, and none of them reaches a header.

export interface FailureEmailItem {
  entityId: number;
  entityType: 'Project' | 'Group';
  entityName: string | null;
  entityFullPath: string | null;
  errorMessage: string;
  /** The reasons behind the message (GitLab's payload errors), listed under it. */
  errorDetails?: string[];
}

export interface FailureEmailInput {
  operationType: string;
  recipientName: string;
  totalItems: number;
  successfulItems: number;
  failedItems: number;
  items: FailureEmailItem[];
  instanceBaseUrl: string;
}

export interface FailureEmail {
  subject: string;
  html: string;
  text: string;
}

const OPERATION_TYPE_NAMES: Record<string, string> = {
  attribute_update: 'Attribute update',
  profile_attach: 'Profile attach',
  profile_detach: 'Profile detach',
};

/** attribute_update -> "Attribute update"; unknown types are humanized the same way. */
export function humanizeOperationType(type: string): string {
  const known = OPERATION_TYPE_NAMES[type];
  if (known) return known;
  const words = type.replace(/_/g, ' ').trim().toLowerCase();
  return words ? words[0]!.toUpperCase() + words.slice(1) : 'Operation';
}

export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** <base>/<full path>, each path segment percent-encoded so a path can only ever be a path. */
export function entityUrl(baseUrl: string, fullPath: string): string {
  const base = baseUrl.replace(/\/+$/, '');
  return `${base}/${fullPath.split('/').filter(Boolean).map(encodeURIComponent).join('/')}`;
}

// Text parts are plain, but a name with a line break must not forge extra lines of the report.
const oneLine = (value: string) => value.replace(/[\r\n\t]+/g, ' ');

export function buildFailureEmail(input: FailureEmailInput): FailureEmail {
  const typeName = humanizeOperationType(input.operationType);
  const subject = `Bulk operation failed: ${typeName}`;
  const kind = input.items[0]?.entityType === 'Group' ? 'Groups' : 'Projects';
  const label = (item: FailureEmailItem) =>
    item.entityName || item.entityFullPath || `${item.entityType} ID ${item.entityId}`;

  const htmlItems = input.items.map((item) => {
    const text = escapeHtml(label(item));
    const link = item.entityFullPath
      ? `<a href="${escapeHtml(entityUrl(input.instanceBaseUrl, item.entityFullPath))}">${text}</a>`
      : escapeHtml(`${item.entityType} ID ${item.entityId}`);
    const details = item.errorDetails ?? [];
    const reasons = details.length > 0 ? `<ul>${details.map((d) => `<li>${escapeHtml(d)}</li>`).join('')}</ul>` : '';
    return `<li><strong>${link}</strong> - ${escapeHtml(item.errorMessage)}${reasons}</li>`;
  });
  const html = [
    '<!DOCTYPE html>',
    '<html><head><meta charset="utf-8"><title>' + escapeHtml(subject) + '</title></head>',
    '<body style="font-family: sans-serif; color: #333238;">',
    `<h1 style="font-size: 20px;">Hi ${escapeHtml(input.recipientName)}!</h1>`,
    `<p>Your bulk ${escapeHtml(typeName.toLowerCase())} operation completed with errors.</p>`,
    '<p><strong>Summary:</strong></p>',
    '<ul>',
    `<li>Total items: ${input.totalItems}</li>`,
    `<li style="color: #108548;">Successful: ${input.successfulItems}</li>`,
    `<li style="color: #dd2b0e;">Failed: ${input.failedItems}</li>`,
    '</ul>',
    `<p><strong>Failed ${kind}:</strong></p>`,
    '<ul>',
    ...htmlItems,
    '</ul>',
    '</body></html>',
  ].join('\n');

  const textItems = input.items.map((item) => {
    const where = item.entityFullPath ? ` (${entityUrl(input.instanceBaseUrl, item.entityFullPath)})` : '';
    const reasons = (item.errorDetails ?? []).map((d) => `\n    - ${oneLine(d)}`).join('');
    return `- ${oneLine(label(item))}${where} - ${oneLine(item.errorMessage)}${reasons}`;
  });
  const text = [
    `Hi ${oneLine(input.recipientName)}!`,
    '',
    `Your bulk ${typeName.toLowerCase()} operation completed with errors.`,
    '',
    'Summary:',
    `Total items: ${input.totalItems}`,
    `Successful: ${input.successfulItems}`,
    `Failed: ${input.failedItems}`,
    '',
    `Failed ${kind}:`,
    ...textItems,
    '',
  ].join('\n');

  return { subject, html, text };
}

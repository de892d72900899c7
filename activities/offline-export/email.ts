import type { Transporter } from 'nodemailer';
import { findExport, findNotificationRecipient, markNotified } from '../../db/offline-export/export-state';
import type { Sql } from '../../db/sql';
import { ExportStatus } from '../../db/offline-export/statuses';

export interface EmailDeps {
  sql: Sql;
  mailer: Pick<Transporter, 'sendMail'>;
  mailFrom: string;
  instanceBaseUrl: string;
}

/** Credentials in a URL are masked the way GitLab's mailer shows the source hostname. */
export const maskHostname = (url: string): string => url.replace(/\/\/[^@/]*@/, '//*****:*****@');

const escapeHtml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export interface ExportEmail {
  subject: string;
  text: string;
  html: string;
}

/** Notify.offline_export_complete / offline_export_failed (gitlab-behaviour.md §A.1). */
export function renderExportEmail(input: {
  finished: boolean;
  name: string;
  sourceHostname: string;
  startedAt: Date;
  exportPrefix: string;
}): ExportEmail {
  const host = maskHostname(input.sourceHostname);
  const date = input.startedAt
    .toISOString()
    .replace('T', ' ')
    .replace(/:\d\d\.\d+Z$/, ' UTC');
  const paragraphs = input.finished
    ? [
        'Export complete',
        `Your offline export from ${host}, started on ${date}, is complete.`,
        `The exported files are under the prefix ${input.exportPrefix} in the configured object storage bucket.`,
      ]
    : [
        'Export failed',
        `Your offline export from ${host}, started on ${date}, failed.`,
        `Files were written under the prefix ${input.exportPrefix}. You can safely delete any files found at that path.`,
        'To try again, start a new export from your source GitLab instance.',
      ];
  return {
    subject: input.finished ? 'Offline export complete' : 'Offline export failed',
    // A line break in a user's name must not start a line of its own in the text part.
    text: [`Hi ${input.name.replace(/[\r\n]+/g, ' ')}!`, ...paragraphs].join('\n\n') + '\n',
    html:
      `<p>Hi ${escapeHtml(input.name)}!</p>\n<h1>${paragraphs[0]}</h1>\n` +
      paragraphs
        .slice(1)
        .map((p) => `<p>${escapeHtml(p)}</p>`)
        .join('\n'),
  };
}

export function createEmailActivities(deps: EmailDeps) {
  const mailDomain = new URL(deps.instanceBaseUrl).hostname;
  return {
    /**
     * Sends "Offline export complete" or "Offline export failed" once. notified_at is set after the send, so a
     * retry after that sends nothing; the Message-ID is derived from the export, so the one duplicate a crash
     * between send and marker could cause is recognisable (and de-duplicated by mail clients).
     */
    async sendExportEmail({ exportId }: { exportId: number }): Promise<{ sent: boolean; subject?: string }> {
      const recipient = await findNotificationRecipient(deps.sql, exportId);
      const found = await findExport(deps.sql, exportId);
      if (!recipient || !found) return { sent: false };
      if (recipient.notifiedAt) return { sent: false };
      if (recipient.status !== ExportStatus.FINISHED && recipient.status !== ExportStatus.FAILED)
        return { sent: false };
      const finished = recipient.status === ExportStatus.FINISHED;
      const email = renderExportEmail({
        finished,
        name: recipient.name,
        sourceHostname: found.sourceHostname,
        startedAt: found.createdAt,
        exportPrefix: found.exportPrefix,
      });
      await deps.mailer.sendMail({
        from: deps.mailFrom,
        to: recipient.email,
        subject: email.subject,
        text: email.text,
        html: email.html,
        messageId: `<offline-export-${exportId}-${finished ? 'complete' : 'failed'}@${mailDomain}>`,
      });
      await markNotified(deps.sql, exportId);
      return { sent: true, subject: email.subject };
    },
  };
}

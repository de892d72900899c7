import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { createOfflineExport } from '../../client/offline-export/create-service';
import { devBucketExportBody } from '../../client/offline-export/dev-bucket';
import { SEED_USERS } from '../../db/seed/generate';
import { ARTIFACTS_DIR, launchBrowser } from '../helpers/browser';
import { startTestWorker, type TestWorker } from '../helpers/worker';

/** The Temporal Web UI of the dev server, driven in headless Chromium the way a person uses it. */
describe('Temporal Web UI', () => {
  let tw: TestWorker;
  let browser: Browser;
  beforeAll(async () => {
    tw = await startTestWorker('web-ui', { EXPORT_CREDENTIALS_PURGE_DELAY_MS: 200 });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await tw?.close();
  });

  it("finds a user's export by custom search attributes and shows its summary and children", async () => {
    const { export: created, workflowId } = await createOfflineExport(
      { sql: tw.deps.sql, temporal: tw.client, config: tw.config, taskQueue: tw.taskQueue },
      { id: SEED_USERS.owner.id },
      devBucketExportBody(tw.config, ['flightjs']),
    );
    await tw.run(() => tw.client.workflow.getHandle(workflowId).result());

    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const base = `http://127.0.0.1:${tw.config.TEMPORAL_UI_PORT}/namespaces/${tw.config.TEMPORAL_NAMESPACE}`;
    // "All exports of user 2", narrowed to this export so other tests' exports do not crowd the page.
    const query = `GitlabUserId = ${SEED_USERS.owner.id} AND WorkflowKind = "offline-export" AND OfflineExportId = ${created.id}`;
    await page.goto(`${base}/workflows?query=${encodeURIComponent(query)}`);
    await page.getByRole('link', { name: workflowId }).waitFor({ timeout: 30_000 });
    await page.getByRole('heading', { name: /^1 Workflow$/ }).waitFor({ timeout: 10_000 });
    await page.screenshot({ path: join(ARTIFACTS_DIR, 'web-ui-filtered-list.png'), fullPage: true });

    await page.getByRole('link', { name: workflowId }).click();
    // The export's run ended with the export: Completed, not Running while its credential purge waits.
    await page.getByText('Completed', { exact: true }).first().waitFor({ timeout: 30_000 });
    await page.getByText('User Metadata').first().click();
    // The UI renders the summary's markdown in a sandboxed iframe.
    const summary = `Offline export ${created.id} of flightjs to ${tw.config.S3_BUCKET}`;
    await page.frameLocator('iframe').first().getByText(summary).waitFor({ state: 'visible', timeout: 30_000 });
    await page.screenshot({ path: join(ARTIFACTS_DIR, 'web-ui-export-summary.png'), fullPage: true });

    // The chunk children are listed under the parent, each with an id that says which portables it exports.
    await page.getByText('Relationships').first().click();
    await page.getByText(`${workflowId}/portables:`).first().waitFor({ timeout: 30_000 });
    await page.screenshot({ path: join(ARTIFACTS_DIR, 'web-ui-export-children.png'), fullPage: true });

    // "Which workflow exported flightjs/Flight?": the chunk child, by the PortableFullPaths keyword list.
    const byPath = `PortableFullPaths = "flightjs/Flight" AND OfflineExportId = ${created.id}`;
    await page.goto(`${base}/workflows?query=${encodeURIComponent(byPath)}`);
    const chunkLink = page.getByRole('link', { name: new RegExp(`^${workflowId}/portables:\\d+-\\d+$`) });
    await chunkLink.waitFor({ timeout: 30_000 });
    await page.getByRole('heading', { name: /^1 Workflow$/ }).waitFor({ timeout: 10_000 });
    await page.screenshot({ path: join(ARTIFACTS_DIR, 'web-ui-chunk-by-path.png'), fullPage: true });
    await page.close();
  });
});

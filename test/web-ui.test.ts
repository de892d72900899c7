import { randomInt, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { STACK_CHECK_WORKFLOW, stackCheckWorkflowId } from '../workflows/stack-check/definitions';
import type { StackCheckWorkflow } from '../workflows/stack-check/workflow';
import { SA_GITLAB_USER_ID, SA_WORKFLOW_KIND } from '../workflows/search-attributes';
import { ARTIFACTS_DIR, launchBrowser } from './helpers/browser';
import { startTestWorker, type TestWorker } from './helpers/worker';

/** The Temporal Web UI of the dev server, driven in headless Chromium the way a person uses it. */
describe('Temporal Web UI', () => {
  let tw: TestWorker;
  let browser: Browser;
  beforeAll(async () => {
    tw = await startTestWorker('web-ui');
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await tw?.close();
  });

  it('filters workflows by a custom search attribute and shows the summary', async () => {
    const userId = randomInt(100_000, 900_000);
    const workflowId = stackCheckWorkflowId(`ui-${randomUUID()}`);
    const summary = `Stack check requested by user ${userId}`;
    await tw.run(() =>
      tw.client.workflow.execute<typeof StackCheckWorkflow>(STACK_CHECK_WORKFLOW, {
        workflowId,
        taskQueue: tw.taskQueue,
        args: [{ requestedBy: `user ${userId}` }],
        staticSummary: summary,
        typedSearchAttributes: [
          { key: SA_WORKFLOW_KIND, value: 'stack-check' },
          { key: SA_GITLAB_USER_ID, value: userId },
        ],
      }),
    );

    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const base = `http://127.0.0.1:${tw.config.TEMPORAL_UI_PORT}/namespaces/${tw.config.TEMPORAL_NAMESPACE}`;
    await page.goto(`${base}/workflows?query=${encodeURIComponent(`GitlabUserId = ${userId}`)}`);
    await page.getByRole('link', { name: workflowId }).waitFor({ timeout: 30_000 });
    await page.screenshot({ path: join(ARTIFACTS_DIR, 'web-ui-filtered-list.png'), fullPage: true });
    // Only the one workflow of that user is listed.
    await page.getByRole('heading', { name: /^1 Workflow$/ }).waitFor({ timeout: 10_000 });

    await page.getByRole('link', { name: workflowId }).click();
    await page.getByText('User Metadata').first().click();
    // The UI renders the summary's markdown in a sandboxed iframe.
    await page.frameLocator('iframe').first().getByText(summary).waitFor({ state: 'visible', timeout: 30_000 });
    await page.screenshot({ path: join(ARTIFACTS_DIR, 'web-ui-workflow-summary.png'), fullPage: true });
    await page.close();
  });
});

/**
 * Issue 12: the web console in real Chromium, one test per flow, each saving screenshots under
 * test/console/out/: sign in, find a delivered message by patient id, open its ACK, resend it;
 * break a mapping in the workbench and see the error inline, fix it and see the preview change;
 * a dead letter shows on the dashboard. Keyboard, labels, and a narrow screen.
 */
import assert from 'node:assert/strict';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Locator } from 'playwright-core';
import { ADMIN_ROUTES } from '../../src/admin/route-table.ts';
import { makeEvent } from '../support/events.ts';
import { REPO, releasedPort, startTestEngine, type TestEngine, webhookToMllpChannel } from '../support/in-process.ts';
import { sandboxMessages, startSandboxLis } from '../support/sandbox.ts';
import { chromiumMissing, launch, newPage, shot, signIn, unlabelled } from './support.ts';

const missing = chromiumMissing();

/** A grid cell's value, without the field name it carries for screen readers. */
const cellValue = (cell: Locator) => cell.evaluate((el) => el.lastChild?.textContent ?? '');

describe('web console in Chromium', { skip: missing }, () => {
  let browser: Browser;
  let lis: Awaited<ReturnType<typeof startSandboxLis>>;
  let t: TestEngine;
  const tokens: Record<string, string> = {};

  before(async () => {
    lis = await startSandboxLis();
    const down = await releasedPort();
    const repoChannel = readFileSync(join(REPO, 'channels', 'platform-to-lis.yaml'), 'utf8').replace('port: 2575', `port: ${lis.mllpPort}`);
    t = await startTestEngine({
      'platform-to-lis.yaml': repoChannel,
      'to-closed-lis.yaml': webhookToMllpChannel('to-closed-lis', down, 'maxAttempts: 1\n      initialBackoffMs: 10\n      maxBackoffMs: 10'),
    });
    cpSync(join(REPO, 'samples'), join(t.dir, 'samples'), { recursive: true });
    for (const role of ['operator', 'integrator']) {
      const res = await t.admin('/api/tokens', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: `console-${role}`, role }) });
      tokens[role] = ((await res.json()) as { token: string }).token;
    }
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    await t?.stop();
    await lis?.stop();
  });

  test('an operator signs in, finds a delivered message by patient id, opens its ACK and resends it', async () => {
    const event = makeEvent('res_CONSOLE_1', { patientId: 'PAT-CONSOLE-1' });
    assert.equal((await t.post('/channels/platform-to-lis', event)).status, 201);
    await t.drained();
    const page = await newPage(browser);
    // Keyboard only: the token field has the focus, Enter signs in.
    await page.goto(`${t.url}/`);
    await page.waitForFunction("document.activeElement && document.activeElement.id === 'token'");
    await page.keyboard.type(tokens.integrator!);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await page.getByRole('heading', { name: /platform-to-lis/ }).waitFor();
    await shot(page, '1-dashboard');
    assert.deepEqual(await unlabelled(page), []);

    await page.getByRole('link', { name: 'Messages', exact: true }).click();
    await page.getByLabel('Patient id').fill('PAT-CONSOLE-1');
    await page.getByRole('button', { name: 'Find' }).click();
    const row = page.getByRole('row').filter({ hasText: 'res_CONSOLE_1' });
    await row.waitFor();
    assert.match((await row.textContent()) ?? '', /acknowledged/);
    assert.deepEqual(await unlabelled(page), []);
    await shot(page, '1-messages-by-patient');

    await row.getByRole('link').click();
    await page.getByRole('tab', { name: 'lis' }).waitFor();
    // Tabs by keyboard: focus the first, arrow to the destination's.
    await page.getByRole('tab', { name: 'Raw input' }).focus();
    await page.keyboard.press('End');
    assert.equal(await page.getByRole('tab', { name: 'lis' }).getAttribute('aria-selected'), 'true');
    await page.getByText('ACK', { exact: true }).click();
    const msa1 = page.locator('td[data-field="MSA-1"]').first();
    assert.equal(await msa1.getAttribute('title'), 'MSA-1 Acknowledgment Code');
    assert.equal(await cellValue(msa1), 'AA');
    const obx5 = page.locator('td[data-field="OBX-5"]').first();
    assert.equal(await obx5.getAttribute('title'), 'OBX-5 Observation Value');
    assert.deepEqual(await unlabelled(page), []);
    await shot(page, '1-message-ack');

    await page.getByRole('button', { name: 'Resend' }).click();
    await page.getByText(/Resent: 1 queued again/).waitFor();
    await t.drained();
    const id = decodeURIComponent(/#\/messages\/([^/?]+)/.exec(page.url())![1]!);
    const view = (await (await t.admin(`/api/messages/${id}`)).json()) as { deliveries: Array<{ attempts: Array<{ outcome: string }> }> };
    assert.deepEqual(
      view.deliveries[0]!.attempts.map((a) => a.outcome),
      ['acknowledged', 'acknowledged'],
      'sent again and acknowledged again',
    );
    await shot(page, '1-resent');
    await page.close();
  });

  test('an integrator breaks a mapping in the workbench, sees the error inline, fixes it and sees the ORU^R01 change', async () => {
    const page = await newPage(browser);
    await signIn(page, t.url, tokens.integrator!);
    await page.getByRole('link', { name: 'Workbench' }).click();
    await page.getByLabel('Channel').selectOption('platform-to-lis');
    await page.getByLabel('Sample').selectOption('full-bmp-panel');
    await page.getByLabel('Edit').selectOption('mappings/oru-r01-lis.yaml');
    const msh3 = page.locator('.output td[data-field="MSH-3"]').first();
    await msh3.waitFor();
    assert.equal(await cellValue(msh3), 'CONDUIT');
    assert.match((await page.locator('.golden').textContent()) ?? '', /ok/);
    assert.deepEqual(await unlabelled(page), []);
    await shot(page, '2-workbench');

    const editor = page.getByLabel('File', { exact: true });
    const text = await editor.inputValue();
    await editor.fill(text.replace('processingId: P ', 'processingId: X '));
    const problem = page.locator('#wb-editor-problems li').first();
    await problem.waitFor();
    assert.match((await problem.textContent()) ?? '', /mappings\/oru-r01-lis\.yaml:\d+ settings\.processingId: /);
    assert.ok((await page.locator('.gutter .bad').count()) > 0, 'the line is marked');
    await shot(page, '2-workbench-error');
    // The running channel is untouched: a message still goes out with P.
    assert.equal((await t.post('/channels/platform-to-lis', makeEvent('res_CONSOLE_WB'))).status, 201);
    await t.drained();
    assert.match((await sandboxMessages(lis)).at(-1)!, /\|P\|2\.5\.1/);

    await editor.fill(text.replace('sendingApplication: CONDUIT ', 'sendingApplication: WORKBENCH '));
    await page.locator('.output td[data-field="MSH-3"]', { hasText: 'WORKBENCH' }).first().waitFor();
    assert.equal(await page.locator('#wb-editor-problems li').count(), 0);
    assert.match((await page.locator('.golden').textContent()) ?? '', /changed/);
    await shot(page, '2-workbench-fixed');
    await page.close();
  });

  test('a dead letter shows on the dashboard, highlighted, and leads to the message', async () => {
    assert.equal((await t.post('/channels/to-closed-lis', makeEvent('res_CONSOLE_DEAD'))).status, 201);
    await t.drained();
    const page = await newPage(browser);
    await signIn(page, t.url, tokens.operator!);
    const dead = page.locator('article', { has: page.getByRole('heading', { name: /to-closed-lis/ }) }).locator('li.trouble a');
    await dead.waitFor();
    assert.match((await dead.textContent()) ?? '', /dead\s*1/);
    const card = page.locator('article', { has: page.getByRole('heading', { name: /to-closed-lis/ }) });
    assert.match((await card.locator('.windows').textContent()) ?? '', /last hour: .*dead 1/);
    assert.match((await card.locator('svg.sparkline title').textContent()) ?? '', /messages received per minute, last 15 minutes: (0, ){14}1/);
    await shot(page, '3-dashboard-dead');
    await dead.click();
    await page.getByRole('row').filter({ hasText: 'res_CONSOLE_DEAD' }).waitFor();
    // An operator sees no content: no raw input tab.
    await page.getByRole('row').filter({ hasText: 'res_CONSOLE_DEAD' }).getByRole('link').click();
    await page.getByRole('tab', { name: 'lis' }).waitFor();
    assert.equal(await page.getByRole('tab', { name: 'Raw input' }).count(), 0);
    await page.getByRole('button', { name: 'Dismiss' }).click();
    await page.getByText('Dismissed 1 delivery').waitFor();
    await shot(page, '3-dismissed');
    await page.close();
  });

  test('the API reference page lists every route of the admin API with its role', async () => {
    const page = await newPage(browser);
    await signIn(page, t.url, tokens.operator!);
    await page.getByRole('link', { name: 'API', exact: true }).click();
    await page.getByRole('heading', { name: /GET \/api\/messages$/ }).waitFor();
    assert.equal(await page.locator('article.route').count(), ADMIN_ROUTES.length);
    assert.match((await page.locator('article.route', { hasText: 'POST /api/messages/{id}/resend' }).textContent()) ?? '', /Role: operator or above/);
    await shot(page, '5-api-reference');
    await page.close();
  });

  test('on a narrow screen the pages stay usable: no sideways scrolling of the page', async () => {
    const page = await newPage(browser, { width: 390, height: 844 });
    await signIn(page, t.url, tokens.integrator!);
    const overflow = () => page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    assert.ok((await overflow()) <= 0, 'dashboard');
    await shot(page, '4-narrow-dashboard');
    await page.goto(`${t.url}/#/messages`);
    await page.getByRole('button', { name: 'Find' }).waitFor();
    assert.ok((await overflow()) <= 0, 'messages');
    await shot(page, '4-narrow-messages');
    await page.close();
  });
});

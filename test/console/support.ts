/** Chromium (Debian's, /usr/bin/chromium) driven by playwright-core, against an engine on loopback. */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CONDUIT_CHROMIUM ?? '/usr/bin/chromium';
/** Screenshots of every flow: the test output folder (not committed). */
export const SHOTS = join(import.meta.dirname, 'out');

/** Why the browser tests cannot run here (no Chromium), or undefined; under CI a missing browser fails instead. */
export function chromiumMissing(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  const reason = `no Chromium at ${CHROMIUM} (apt-get install -y chromium, as .ci/run does)`;
  if (process.env.CI === 'true') throw new Error(reason);
  return reason;
}

export async function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
}

/** A page of its own, failing fast (10 s) and logging the page's errors to the test's output. */
export async function newPage(browser: Browser, viewport = { width: 1280, height: 800 }): Promise<Page> {
  const page = await browser.newPage({ viewport });
  page.setDefaultTimeout(10_000);
  page.on('pageerror', (e) => process.stderr.write(`page error: ${e.message}\n`));
  return page;
}

export async function shot(page: Page, name: string): Promise<string> {
  mkdirSync(SHOTS, { recursive: true });
  const path = join(SHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

export async function signIn(page: Page, url: string, token: string): Promise<void> {
  await page.goto(`${url}/`);
  await page.getByLabel('Token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
}

/** Every form control on the page has a label a screen reader announces; the ones that lack one. */
export async function unlabelled(page: Page): Promise<string[]> {
  // A string, run in the page: the page's DOM types are not this program's.
  return page.evaluate(`[...document.querySelectorAll('input, select, textarea, button')]
    .filter((e) => {
      if (e.type === 'hidden' || e.closest('[hidden]')) return false;
      const named = e.labels?.length || e.getAttribute('aria-label') || e.getAttribute('aria-labelledby') || (e.tagName === 'BUTTON' && e.textContent.trim());
      return !named;
    })
    .map((e) => e.outerHTML.slice(0, 80))`);
}

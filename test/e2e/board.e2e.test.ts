import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { BridgeFixture, REPO, tempDir } from '../support/bridge.js';
import { AutopollProcess } from '../support/cli.js';
import { testPrefix } from '../support/pipeline.js';
import { INSTALL_SYSTEM_PACKAGES } from '../support/systemPackages.js';
import { waitFor } from '../support/wait.js';

/** Debian's Chromium (the README's install command brings it); never a downloaded browser. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Without the background-networking flags Chromium keeps calling out to a network there is none of. */
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/**
 * The last page, as the README shows it. Every run takes it, into its own temp folder: a test run
 * changes no tracked file. BOARD_SCREENSHOT=docs/board.png renews the README's picture.
 */
const SCREENSHOT = process.env.BOARD_SCREENSHOT ? resolve(REPO, process.env.BOARD_SCREENSHOT) : join(tempDir(), 'board.png');
/** BOARD_SHOTS=<dir> keeps a screenshot of every step, to see what the test saw. */
const STEP_SHOTS = process.env.BOARD_SHOTS;

/**
 * The operator's path through the board in a real browser: log in with the board token, find the
 * question that failed for good, retry it; the retry is a replay whose answer reaches the bridge
 * once, after the error response.
 */
describe('the board in a browser', () => {
  let browser: Browser | undefined;
  let up: AutopollProcess | undefined;
  let bridge: BridgeFixture | undefined;

  afterAll(async () => {
    await browser?.close();
    if (up) {
      up.kill('SIGTERM');
      // A clean stop within the test's budget, or kill -9.
      if (!(await Promise.race([up.exited.then(() => true), sleep(10_000).then(() => false)]))) await up.kill('SIGKILL');
    }
    bridge?.close();
  });

  async function step(page: Page, name: string): Promise<void> {
    if (!STEP_SHOTS) return;
    mkdirSync(STEP_SHOTS, { recursive: true });
    await page.screenshot({ path: join(STEP_SHOTS, `${name}.png`) });
  }

  /** Bull Board's job actions are icon buttons whose name is only in a tooltip shown on hover. */
  async function buttonWithTooltip(page: Page, scope: Locator, tooltip: string): Promise<Locator> {
    const buttons = scope.getByRole('listitem').getByRole('button');
    const count = await buttons.count();
    for (let i = 0; i < count; i++) {
      await buttons.nth(i).hover();
      const shown = await page
        .getByText(tooltip, { exact: true })
        .waitFor({ state: 'visible', timeout: 2000 })
        .then(() => true, () => false);
      if (shown) return buttons.nth(i);
    }
    throw new Error(`no button with the tooltip "${tooltip}" among ${count}`);
  }

  it('logs in, retries a failed question from the Failed tab, and the replay answers it once after the error', async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`no Chromium at ${CHROMIUM}: install it with the README's command (${INSTALL_SYSTEM_PACKAGES}) or point CHROMIUM_PATH at one; do not download a browser`);
    }
    bridge = BridgeFixture.create();
    const conv = bridge.createConversation();
    const token = randomBytes(24).toString('hex');
    up = new AutopollProcess(
      ['up', '--answerer', 'stub', '--attempts', '1', '--backoff-ms', '0', '--port', '0', '--redis', inject('redisUrl'), '--prefix', testPrefix(),
        '--bridge-db', bridge.path, '--conversation', `${conv.id}:${conv.tokenB}`, '--poll-interval-ms', '50', '--shutdown-timeout', '5'],
      { AUTOPOLL_BOARD_TOKEN: token },
    );
    const url = String((await up.waitForLog(/^operator server listening$/)).url);

    const failing = bridge.ask(conv.id, 'q_replay', 'What is the capital of France? #stub-fail-unless-replay');
    const others = [
      bridge.ask(conv.id, 'q_port', 'Which port does the board listen on?'),
      bridge.ask(conv.id, 'q_writer', 'Who writes the answers back to the bridge?'),
    ];
    const forReplay = () => bridge!.responses(conv.id).filter((r) => r.body.query_id === 'q_replay');
    await waitFor('the error response and a failed ledger row', () => bridge!.ledger(failing)?.state === 'failed' && forReplay().length === 1);
    await waitFor('the other questions answered', () => others.every((id) => bridge!.ledger(id)?.state === 'answered'));
    expect(forReplay()[0]!.body.error).toBeDefined();

    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.setDefaultTimeout(10_000);

    // Not logged in: the board sends a browser to the login form, which brings it back.
    await page.goto(url);
    expect(new URL(page.url()).pathname).toBe('/login');
    await step(page, '01-login');
    await page.getByLabel('Board token (AUTOPOLL_BOARD_TOKEN)').fill(token);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL((u) => u.pathname === '/');
    await page.getByRole('navigation').getByRole('link', { name: 'questions' }).waitFor();
    await step(page, '02-board');

    // The questions queue's Failed tab lists the question by its query id; its page has the Retry.
    await page.getByRole('navigation').getByRole('link', { name: 'questions' }).click();
    await page.getByRole('link', { name: /^FAILED/ }).click();
    await page.waitForURL((u) => u.pathname === '/queue/questions' && u.searchParams.get('status') === 'failed');
    // Bull Board links a job card by its id (m-<bridgeId>-<messageId>), its name (question q_replay) beside it.
    const jobLink = () => page.getByRole('link', { name: new RegExp(`${bridge!.jobId(failing)}|question q_replay$`) }).first();
    const job = jobLink();
    await job.waitFor();
    await step(page, '03-failed');
    await job.click();
    await page.waitForURL((u) => /^\/queue\/questions\/[^/]+$/.test(u.pathname));
    await page.getByText(/stub_awaiting_replay|stub failure/).first().waitFor();
    await step(page, '04-job');
    const retry = await buttonWithTooltip(page, page.getByRole('main'), 'Retry');
    await retry.click();
    // Bull Board asks before a job action, unless its settings say not to: then the retry just runs.
    const confirm = page.getByRole('alertdialog').getByRole('button', { name: 'Confirm' });
    const next = await waitFor('the confirmation, or the retry running', async () =>
      (await confirm.isVisible()) ? 'confirm' : bridge!.ledger(failing)?.state === 'answered' ? 'retried' : undefined, 10_000, 50);
    if (next === 'confirm') {
      await step(page, '05-confirm');
      await confirm.click();
    }

    // The replay's answer follows the error response once, and the ledger moves from failed to answered.
    await waitFor('the replay answered in the ledger', () => bridge!.ledger(failing)?.state === 'answered');
    await waitFor('the replay answer on the bridge', () => forReplay().length === 2);
    await sleep(300); // nothing more may follow
    const responses = forReplay();
    expect(responses).toHaveLength(2);
    expect(responses[0]!.body.error).toBeDefined();
    expect(responses[1]!.body.error).toBeUndefined();
    expect(responses[1]!.body.answer).toBe('Stub answer to q_replay.');
    expect(bridge.ledger(failing)?.response_message_id).toBe(responses[1]!.id);
    expect(bridge.responses(conv.id)).toHaveLength(4);

    // The board shows it: nothing failed, the three questions completed.
    await page.goto(new URL('queue/questions?status=completed', url).href);
    await jobLink().waitFor();
    await waitFor('3 completed, none failed, in the tabs', async () => {
      const [completed, failed] = await Promise.all([page.getByRole('link', { name: /^COMPLETED/ }).innerText(), page.getByRole('link', { name: /^FAILED/ }).innerText()]);
      return /^COMPLETED\s*3$/.test(completed.trim()) && failed.trim() === 'FAILED';
    }, 10_000, 200);
    const shown = await page.locator('body').innerText();
    for (const secret of [token, conv.tokenA, conv.tokenB]) expect(shown.includes(secret), 'a token on the page').toBe(false);
    await page.screenshot({ path: SCREENSHOT });
    expect(statSync(SCREENSHOT).size).toBeGreaterThan(10_000);
  });
});

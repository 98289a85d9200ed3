/**
 * Debian's chromium (/usr/bin/chromium, installed by scripts/prereqs.sh) driven by playwright-core:
 * no browser is ever downloaded. Each launch gets a fresh profile directory, removed on close,
 * and flags that keep the browser from reaching out on its own (no component updates, no sync,
 * no background networking), so the only traffic is what the test asks for.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Browser {
  readonly context: BrowserContext;
  /** A new tab. */
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/** Launches chromium with a fresh --user-data-dir; throws with the install hint when it is missing. */
export async function launchChromium(opts: { readonly viewport?: { width: number; height: number } } = {}): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`${CHROMIUM_PATH} is missing: run scripts/prereqs.sh (apt-get install -y chromium)`);
  const dir = mkdtempSync(join(tmpdir(), 'cdk-sessions-chromium-'));
  let context: BrowserContext;
  try {
    // launchPersistentContext passes --user-data-dir=<dir> itself.
    context = await chromium.launchPersistentContext(dir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_ARGS],
      viewport: opts.viewport ?? { width: 1000, height: 1100 },
    });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    context,
    newPage: () => context.newPage(),
    async close() {
      await context.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

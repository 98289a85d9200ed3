/**
 * `npm run lab -- --screenshots [--only redis,sticky]`: the session page (GET /) in Debian's
 * chromium, per topology, before and after the instance that served it is killed. Writes
 * lab/screenshots/<topology>-1-before-kill.png and -2-after-kill.png.
 *
 * Per topology: 3 instances behind haproxy (lab/cluster.ts), a fresh browser; log in, add two
 * cart lines, "Send 20 requests" (sticky sessions: one server answers; a centralized store or
 * JWT: all of them, with the same cart), screenshot; SIGKILL the instance that answered the
 * page's last GET /session, reload, "Send 20 requests" again, screenshot. Sticky memory then
 * shows the session gone; Redis and JWT show the same cart served by the survivors.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { launchChromium } from '../test/support/chromium';
import { SessionPage, slotOf, startPageCluster } from '../test/browser/session-page';
import { TOPOLOGIES } from './topologies';

/** One topology per row of the seed's table, unless --only names others. */
export const SCREENSHOT_TOPOLOGIES: readonly string[] = ['sticky-memory (AWSALB)', 'redis', 'jwt (no denylist)'];

export const SCREENSHOT_DIR = join(__dirname, 'screenshots');

/** `sticky-memory (AWSALB)` → `sticky-memory-awsalb`. */
export function slug(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

/** Takes the before/after pair for each topology `only` matches (by substring); returns the files written. */
export async function takeScreenshots(only?: readonly string[], dir = SCREENSHOT_DIR): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const chosen = only ? TOPOLOGIES.filter((t) => only.some((o) => t.name.includes(o))) : TOPOLOGIES.filter((t) => SCREENSHOT_TOPOLOGIES.includes(t.name));
  const written: string[] = [];
  for (const t of chosen) {
    const why = t.unavailable?.();
    if (why) {
      console.log(`skip ${t.name}: ${why}`);
      continue;
    }
    const store = await t.start();
    const cluster = await startPageCluster(t, store);
    const browser = await launchChromium({ viewport: { width: 900, height: 1000 } });
    try {
      const page = new SessionPage(await browser.newPage(), `http://localhost:${cluster.port}/`);
      await page.open();
      await page.login('ann');
      await page.addLine('apple-1', 2);
      const before = await page.addLine('pear-9', 1);
      await page.send20();
      const file = (step: string) => join(dir, `${slug(t.name)}-${step}.png`);
      await page.page.screenshot({ path: file('1-before-kill'), fullPage: true });
      written.push(file('1-before-kill'));
      await cluster.kill(slotOf(cluster, before.servedBy));
      const after = await page.reload();
      await page.send20();
      await page.page.screenshot({ path: file('2-after-kill'), fullPage: true });
      written.push(file('2-after-kill'));
      console.log(`${t.name}: killed ${before.servedBy}; after the reload: ${after.state}${after.servedBy ? `, served by ${after.servedBy}` : ''}, ${after.cart.length} cart lines`);
    } finally {
      await browser.close();
      await cluster.stop();
      await store.stop();
    }
  }
  return written;
}

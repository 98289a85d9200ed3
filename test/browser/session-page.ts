/**
 * The session page (GET /, lambda/app/page.ts) in a real browser, on a lab topology: 3 instance
 * server processes behind haproxy (lab/cluster.ts) on the topology's store. Shared by the
 * browser tests (test/browser/*.test.ts) and `npm run lab -- --screenshots` (lab/screenshots.ts).
 */
import type { Page } from 'playwright-core';
import { Cluster } from '../../lab/cluster';
import type { StoreHandle, Topology } from '../../lab/topologies';
import type { Stickiness } from '../support/haproxy';

/** The page's document, inside page.evaluate callbacks (the project compiles without the DOM lib). */
declare const document: any;

/**
 * Starts the topology's 3 instances behind haproxy with the cookie a deployed stack sends over
 * HTTPS: SESSION_COOKIE_SECURE=true, so `__Host-sid; Secure; HttpOnly; SameSite=Lax`.
 * Chromium counts http://localhost as a secure origin, so it keeps that cookie over plain HTTP
 * there. App-cookie stickiness is keyed on that cookie name.
 */
export async function startPageCluster(t: Topology, store: StoreHandle, opts: { readonly secureCookie?: boolean } = {}): Promise<Cluster> {
  const secure = opts.secureCookie ?? true;
  const stickiness: Stickiness = t.stickiness.kind === 'app-cookie' ? { kind: 'app-cookie', appCookieName: secure ? '__Host-sid' : 'sid' } : t.stickiness;
  return Cluster.start({ env: { ...store.env, SESSION_COOKIE_SECURE: secure ? 'true' : 'false' }, stickiness });
}

/** The slot of `cluster` whose instance reports `servedBy`. */
export function slotOf(cluster: Cluster, servedBy: string): number {
  const i = cluster.slots.findIndex((inst, k) => inst !== undefined && cluster.servedBy(k) === servedBy);
  if (i < 0) throw new Error(`no running instance reports servedBy ${servedBy}`);
  return i;
}

/** What the page shows. */
export interface PageView {
  /** body[data-state]: session, logged-out, gone, error. */
  readonly state: string;
  readonly storeKind: string;
  readonly user: string;
  readonly servedBy: string;
  readonly theme: string;
  readonly cart: Array<{ sku: string; qty: string }>;
  readonly prefs: string[];
  /** The notice line, '' when hidden. */
  readonly notice: string;
}

/** How many of the 20 requests each server answered, and the summary line. */
export interface ServerTally {
  readonly counts: Record<string, number>;
  readonly summary: string;
}

/** Drives the page the way a user does: fills forms, clicks buttons, reads what is shown. */
export class SessionPage {
  constructor(
    readonly page: Page,
    readonly url: string,
  ) {}

  async open(): Promise<PageView> {
    await this.page.goto(this.url);
    return this.settled();
  }

  async reload(): Promise<PageView> {
    await this.page.reload();
    return this.settled();
  }

  /** Waits until the page's script has finished its current work, then reads the page. */
  async settled(): Promise<PageView> {
    await this.page.waitForFunction(() => document.body.dataset.state !== 'loading' && !document.body.hasAttribute('aria-busy'), undefined, { timeout: 20_000 });
    return this.view();
  }

  async view(): Promise<PageView> {
    return this.page.evaluate(() => {
      const text = (id: string) => document.getElementById(id)?.textContent ?? '';
      const notice = document.getElementById('notice')!;
      return {
        state: document.body.dataset.state ?? '',
        storeKind: text('store-kind'),
        user: document.getElementById('session-box')!.hidden ? '' : text('user'),
        servedBy: text('served-by'),
        theme: text('theme'),
        cart: [...document.querySelectorAll('#cart tr')].map((tr: any) => ({ sku: tr.children[0].textContent ?? '', qty: tr.children[1].textContent ?? '' })),
        prefs: [...document.querySelectorAll('#prefs li')].map((li: any) => li.textContent ?? ''),
        notice: notice.hidden ? '' : (notice.textContent ?? ''),
      };
    });
  }

  async login(user: string, password?: string): Promise<PageView> {
    await this.page.fill('#login-user', user);
    await this.page.fill('#login-password', password ?? '');
    await this.page.click('#login-form button[type=submit]');
    return this.settled();
  }

  async addLine(sku: string, qty: number): Promise<PageView> {
    await this.page.fill('#cart-sku', sku);
    await this.page.fill('#cart-qty', String(qty));
    await this.page.click('#cart-form button[type=submit]');
    return this.settled();
  }

  async toggleTheme(): Promise<PageView> {
    await this.page.click('#theme-toggle');
    return this.settled();
  }

  async logout(): Promise<PageView> {
    await this.page.click('#logout');
    return this.settled();
  }

  async send20(): Promise<ServerTally> {
    await this.page.click('#send-20');
    await this.settled();
    return this.page.evaluate(() => {
      const counts: Record<string, number> = {};
      for (const li of document.querySelectorAll('#servers li')) {
        const m = /^(.*): (\d+)$/.exec(li.textContent ?? '');
        if (m) counts[m[1]] = Number(m[2]);
      }
      return { counts, summary: document.getElementById('servers-summary')?.textContent ?? '' };
    });
  }
}

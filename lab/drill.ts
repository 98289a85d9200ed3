/**
 * `npm run drill -- --stack <name> [--seconds 120] [--users 10] [--url http://alb…] [--node-group 0001]`
 *
 * A failover drill against a deployed RedisSessions stack (bin/: the stack with the `FleetUrl`
 * output): reads the stack's outputs and its ElastiCache replication group (CloudFormation
 * DescribeStacks / DescribeStackResources), puts simulated users on the ALB (login, add to
 * cart, read, with cookie jars), calls ElastiCache TestFailover on the primary's node group
 * while the load runs, keeps the load going until the group is `available` again and at
 * least `--seconds` have passed, then reports sessions lost, cart lines lost and failed requests.
 *
 * Without AWS credentials it stops at once, exit code 2, saying so: it never waits on the
 * SDK's credential chain (which would try the EC2 instance metadata endpoint).
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { quantile } from '../bench/stats';

export interface DrillFlags {
  readonly stack: string;
  readonly seconds: number;
  readonly users: number;
  readonly url?: string;
  readonly nodeGroup?: string;
}

export class DrillUsageError extends Error {}

export function parseDrillFlags(argv: readonly string[]): DrillFlags {
  const get = (n: string) => {
    const i = argv.indexOf(`--${n}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const stack = get('stack');
  if (!stack) throw new DrillUsageError('usage: npm run drill -- --stack <RedisSessions stack name> [--seconds 120] [--users 10] [--url <ALB url>] [--node-group 0001]');
  return { stack, seconds: Number(get('seconds') ?? 120), users: Number(get('users') ?? 10), url: get('url'), nodeGroup: get('node-group') };
}

/**
 * Where the SDK could find credentials without a network call: environment keys, a profile,
 * web identity, the container endpoint, or the shared files. Undefined when there is none.
 */
export function credentialSource(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) return 'environment';
  if (env.AWS_PROFILE) return `profile ${env.AWS_PROFILE}`;
  if (env.AWS_WEB_IDENTITY_TOKEN_FILE) return 'web identity';
  if (env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI || env.AWS_CONTAINER_CREDENTIALS_FULL_URI) return 'container';
  const home = env.HOME ?? homedir();
  const files = [env.AWS_SHARED_CREDENTIALS_FILE ?? join(home, '.aws', 'credentials'), env.AWS_CONFIG_FILE ?? join(home, '.aws', 'config')];
  const found = files.find((f) => existsSync(f));
  return found ? `shared file ${found}` : undefined;
}

interface Outcome {
  status: number;
  ms: number;
}

/** A browser-like user over fetch (the ALB may be HTTPS): cookie jar, unique SKUs, score. */
class DrillUser {
  private readonly jar = new Map<string, string>();
  private readonly expected = new Set<string>();
  private seq = 0;
  loggedIn = false;
  sessionsLost = 0;
  linesLost = 0;
  linesAcked = 0;
  failed = 0;

  constructor(
    private readonly base: string,
    readonly name: string,
    private readonly outcomes: Outcome[],
  ) {}

  private async call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
    const t0 = performance.now();
    const headers: Record<string, string> = {};
    if (this.jar.size > 0) headers.cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    // What a page's same-origin fetch sends (the app refuses writes without them from a browser).
    headers['sec-fetch-site'] = 'same-origin';
    if (method !== 'GET') {
      headers.origin = new URL(this.base).origin;
      headers['content-type'] = 'application/json';
    }
    try {
      const res = await fetch(this.base + path, { method, headers, body: method === 'GET' ? undefined : JSON.stringify(body ?? {}), signal: AbortSignal.timeout(10_000) });
      for (const sc of res.headers.getSetCookie()) {
        const [pair, ...attrs] = sc.split(/;\s*/);
        const eq = pair.indexOf('=');
        if (attrs.some((a) => /^max-age=0$/i.test(a))) this.jar.delete(pair.slice(0, eq));
        else this.jar.set(pair.slice(0, eq), pair.slice(eq + 1));
      }
      const text = await res.text();
      this.outcomes.push({ status: res.status, ms: performance.now() - t0 });
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: res.status, json };
    } catch {
      this.outcomes.push({ status: 0, ms: performance.now() - t0 });
      return { status: 0, json: undefined };
    }
  }

  private seen(status: number): void {
    if (status === 401 && this.loggedIn) {
      this.sessionsLost++;
      this.linesLost += this.expected.size;
      this.expected.clear();
      this.loggedIn = false;
    } else if (status === 0 || status >= 500) this.failed++;
  }

  async step(n: number): Promise<void> {
    if (!this.loggedIn) {
      const r = await this.call('POST', '/login', { user: this.name });
      if (r.status === 200) {
        this.loggedIn = true;
        this.expected.clear();
      } else this.seen(r.status);
    } else if (n % 2 === 0) {
      const sku = `${this.name}-${++this.seq}`;
      const r = await this.call('POST', '/cart/items', { sku, qty: 1 });
      if (r.status === 200) {
        this.expected.add(sku);
        this.linesAcked++;
      } else this.seen(r.status);
    } else {
      const r = await this.call('GET', '/session');
      if (r.status === 200) {
        const cart = new Set(((r.json?.cart ?? []) as Array<{ sku: string }>).map((l) => l.sku));
        for (const sku of [...this.expected]) if (!cart.has(sku)) (this.linesLost++, this.expected.delete(sku));
      } else this.seen(r.status);
    }
  }
}

async function main(): Promise<number> {
  let flags: DrillFlags;
  try {
    flags = parseDrillFlags(process.argv.slice(2));
  } catch (err) {
    console.error((err as Error).message);
    return 2;
  }
  const source = credentialSource();
  if (!source) {
    console.error(
      'drill: no AWS credentials found (no AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, web identity, container credentials or ~/.aws files). ' +
        'The drill fails over a real ElastiCache replication group of a deployed RedisSessions stack; configure credentials for its account and region and run it again.',
    );
    return 2;
  }
  if (!process.env.AWS_REGION && !process.env.AWS_DEFAULT_REGION && !source.startsWith('profile') && !source.startsWith('shared')) {
    console.error('drill: no AWS region (set AWS_REGION)');
    return 2;
  }
  // Loaded only now, so that the no-credentials path never builds an SDK client.
  const { CloudFormationClient, DescribeStacksCommand, DescribeStackResourcesCommand } = await import('@aws-sdk/client-cloudformation');
  const { ElastiCacheClient, DescribeReplicationGroupsCommand, TestFailoverCommand } = await import('@aws-sdk/client-elasticache');
  const cfn = new CloudFormationClient({});
  const ec = new ElastiCacheClient({});

  const stack = (await cfn.send(new DescribeStacksCommand({ StackName: flags.stack }))).Stacks?.[0];
  if (!stack) throw new Error(`stack ${flags.stack} not found`);
  const outputs = new Map((stack.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']));
  const url = (flags.url ?? [...outputs].find(([k]) => /FleetUrl/i.test(k))?.[1] ?? '').replace(/\/$/, '');
  if (!url) throw new Error(`stack ${flags.stack} has no FleetUrl output; pass --url <ALB url>`);
  const resources = (await cfn.send(new DescribeStackResourcesCommand({ StackName: flags.stack }))).StackResources ?? [];
  const rgId = resources.find((r) => r.ResourceType === 'AWS::ElastiCache::ReplicationGroup')?.PhysicalResourceId;
  if (!rgId) throw new Error(`stack ${flags.stack} has no AWS::ElastiCache::ReplicationGroup`);
  const describe = async () => (await ec.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: rgId }))).ReplicationGroups?.[0];
  const rg = await describe();
  const nodeGroup = flags.nodeGroup ?? rg?.NodeGroups?.[0]?.NodeGroupId ?? '0001';
  const primaryBefore = rg?.NodeGroups?.find((g) => g.NodeGroupId === nodeGroup)?.NodeGroupMembers?.find((m) => m.CurrentRole === 'primary')?.CacheClusterId;
  console.log(`drill: ${url} → replication group ${rgId} (node group ${nodeGroup}, primary ${primaryBefore ?? '?'}), credentials from ${source}`);

  const outcomes: Outcome[] = [];
  const users = Array.from({ length: flags.users }, (_, i) => new DrillUser(url, `drill-${Date.now().toString(36)}-${i}`, outcomes));
  const stop = { stopped: false };
  const hardStop = Date.now() + Math.max(flags.seconds, 60) * 1000 + 15 * 60_000;
  const load = Promise.all(
    users.map(async (u) => {
      for (let n = 0; !stop.stopped && Date.now() < hardStop && n < 100_000; n++) {
        await u.step(n);
        await new Promise((r) => setTimeout(r, 50));
      }
    }),
  );
  const started = Date.now();
  await new Promise((r) => setTimeout(r, 10_000)); // a baseline before the failover
  console.log('drill: TestFailover …');
  await ec.send(new TestFailoverCommand({ ReplicationGroupId: rgId, NodeGroupId: nodeGroup }));
  for (;;) {
    await new Promise((r) => setTimeout(r, 5000));
    const g = await describe().catch(() => undefined);
    if (g?.Status === 'available' && Date.now() - started >= flags.seconds * 1000) break;
    if (Date.now() > hardStop) break;
  }
  stop.stopped = true;
  await load;
  const after = await describe();
  const primaryAfter = after?.NodeGroups?.find((g) => g.NodeGroupId === nodeGroup)?.NodeGroupMembers?.find((m) => m.CurrentRole === 'primary')?.CacheClusterId;
  const sorted = outcomes.map((o) => o.ms).sort((a, b) => a - b);
  const p = (q: number) => quantile(sorted, q)?.toFixed(0) ?? '—';
  const sum = (f: (u: DrillUser) => number) => users.reduce((a, u) => a + f(u), 0);
  console.log(
    [
      '',
      '| stack | primary before → after | requests | failed (5xx, none) | sessions lost | cart lines lost / acked | p50 ms | p99 ms |',
      '| --- | --- | --- | --- | --- | --- | --- | --- |',
      `| ${flags.stack} | ${primaryBefore ?? '?'} → ${primaryAfter ?? '?'} | ${outcomes.length} | ${sum((u) => u.failed)} | ${sum((u) => u.sessionsLost)} | ${sum((u) => u.linesLost)} / ${sum((u) => u.linesAcked)} | ${p(0.5)} | ${p(0.99)} |`,
    ].join('\n'),
  );
  return 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`drill: ${(err as Error).message ?? String(err)}`);
      process.exit(1);
    },
  );
}

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { FleetServer, InstanceFleet, InstanceFleetProps } from '../../../lib/compute';
import { INSTANCE_SERVER_FILE } from '../../../lib/compute/runtime-assets';
import { freePort, waitForPort } from '../../support/ports';
import { agnosticStack, expectProblems } from '../helpers';

/** The user data script, with tokens rendered as JSON. */
function userDataOf(template: Template): string {
  const lt = Object.values(template.findResources('AWS::EC2::LaunchTemplate'))[0];
  const parts = lt.Properties.LaunchTemplateData.UserData['Fn::Base64']['Fn::Join'][1] as unknown[];
  return parts.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join('');
}

function synth(props: InstanceFleetProps): { fleet: InstanceFleet; template: Template; stack: Stack } {
  const stack = agnosticStack();
  const fleet = new InstanceFleet(stack, 'Fleet', props);
  return { fleet, stack, template: Template.fromStack(stack) };
}

let tmp = '';
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fleet-server-'));
  fs.mkdirSync(path.join(tmp, 'app', 'dist'), { recursive: true });
  fs.writeFileSync(path.join(tmp, 'app', 'dist', 'server.js'), 'require("node:http").createServer((q, s) => s.end("ok")).listen(process.env.PORT);\n');
  fs.writeFileSync(
    path.join(tmp, 'entry.ts'),
    [
      "import { createServer } from 'node:http';",
      "const greeting: string = 'hello from the team server';",
      "createServer((req, res) => { res.writeHead(req.url === '/healthz' ? 200 : 404); res.end(greeting); }).listen(Number(process.env.PORT), '127.0.0.1');",
      '',
    ].join('\n'),
  );
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('FleetServer: your own app on the fleet', () => {
  test('fromAsset: the directory is an S3 asset the instances download, started by the same systemd unit with the given command', () => {
    const { fleet, template, stack } = synth({
      server: FleetServer.fromAsset(path.join(tmp, 'app'), { startCommand: 'node dist/server.js --mode web' }),
      userDataCommands: ['dnf install -y -q jq', 'echo team-setup-done'],
      healthCheckPath: '/health',
      port: 3000,
    });
    const script = userDataOf(template);
    const lines = script.split('\n');
    // Downloaded: the asset's own object key, and the instance role may read exactly that object.
    const key = stack.resolve(fleet.serverAsset.s3ObjectKey) as string;
    expect(script).toMatch(new RegExp(`aws s3 cp 's3://[^']*/${key}' '/opt/cdk-sessions/server.zip'`));
    expect(key).toMatch(/\.zip$/);
    expect(script).toContain('unzip -o -q /opt/cdk-sessions/server.zip -d /opt/cdk-sessions/app');
    // Started with the team's command, by the unit, as the unprivileged user, with the environment file.
    expect(lines).toContain('exec node dist/server.js --mode web');
    expect(script).not.toContain('exec node --enable-source-maps server.js');
    const unit = lines.slice(lines.indexOf('[Unit]'), lines.indexOf('UNIT', lines.indexOf('[Unit]')));
    expect(unit).toEqual(
      expect.arrayContaining(['User=sessions', 'EnvironmentFile=/etc/cdk-sessions.env', 'ExecStart=/bin/sh /opt/cdk-sessions/start.sh', 'WorkingDirectory=/opt/cdk-sessions/app']),
    );
    expect(fleet.environment.PORT).toBe('3000');
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', { HealthCheckPath: '/health', Port: 3000 });
    // Extra user data: after the app is unpacked, before the server starts.
    const extra = lines.indexOf('echo team-setup-done');
    expect(lines.indexOf('dnf install -y -q jq')).toBeLessThan(extra);
    expect(extra).toBeGreaterThan(lines.findIndex((l) => l.startsWith('unzip -o -q')));
    expect(extra).toBeLessThan(lines.indexOf('systemctl enable --now cdk-sessions.service'));
  });

  test('the reference server stays the default', () => {
    const { template } = synth({});
    expect(userDataOf(template).split('\n')).toContain(`exec node --enable-source-maps ${INSTANCE_SERVER_FILE}`);
  });

  test('bad server props are reported all at once', () => {
    expectProblems(
      () =>
        synth({
          server: FleetServer.fromAsset(path.join(tmp, 'missing'), { startCommand: 'node a.js\nrm -rf /' }),
        }),
      [/server asset directory not found/, /startCommand must be one line/],
    );
    expectProblems(() => synth({ server: FleetServer.fromAsset(path.join(tmp, 'app'), { startCommand: '  ' }) }), [/startCommand must not be empty/]);
    expectProblems(() => synth({ server: FleetServer.fromEntry(path.join(tmp, 'entry.txt')) }), [/server entry must be a \.ts or \.js file/]);
    expectProblems(() => synth({ server: FleetServer.fromEntry(path.join(tmp, 'nope.ts')) }), [/server entry not found/]);
  });

  test('fromEntry bundles the entry with esbuild at synth into server.js, which serves on PORT', async () => {
    const app = new App(); // no 'aws:cdk:bundling-stacks' override: bundling really runs
    const stack = new Stack(app, 'Bundles');
    const fleet = new InstanceFleet(stack, 'Fleet', { server: FleetServer.fromEntry(path.join(tmp, 'entry.ts')) });
    const assembly = app.synth();
    const dir = path.join(assembly.directory, `asset.${fleet.serverAsset.assetHash}`);
    const file = path.join(dir, INSTANCE_SERVER_FILE);
    expect(fs.existsSync(file)).toBe(true);
    expect(fs.existsSync(`${file}.map`)).toBe(true);
    const code = fs.readFileSync(file, 'utf8');
    expect(code).toContain('hello from the team server');
    expect(code).not.toContain(': string'); // TypeScript compiled away
    const port = await freePort();
    const child = spawn(process.execPath, [file], { env: { ...process.env, PORT: String(port) }, stdio: 'ignore' });
    try {
      await waitForPort(port, 10_000);
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('hello from the team server');
    } finally {
      child.kill();
    }
  }, 120_000);
});

/**
 * A Secrets Manager stand-in for tests: a local HTTP server that answers the one call the
 * runtime makes, GetSecretValue (AWS JSON 1.1 protocol, `X-Amz-Target:
 * secretsmanager.GetSecretValue`), from an in-memory map the test can change (rotation).
 * It checks nothing about signatures; it counts calls per secret id.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

export interface SecretsStandIn {
  readonly endpoint: string;
  readonly secrets: Map<string, string>;
  /** GetSecretValue calls per SecretId. */
  readonly calls: Map<string, number>;
  client(): SecretsManagerClient;
  close(): Promise<void>;
}

export async function startSecretsStandIn(): Promise<SecretsStandIn> {
  const secrets = new Map<string, string>();
  const calls = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const target = req.headers['x-amz-target'];
      const reply = (status: number, obj: unknown, type?: string) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', ...(type ? { 'x-amzn-errortype': type } : {}) });
        res.end(JSON.stringify(obj));
      };
      if (target !== 'secretsmanager.GetSecretValue') return reply(400, { __type: 'UnknownOperationException', message: String(target) }, 'UnknownOperationException');
      const { SecretId } = JSON.parse(body) as { SecretId: string };
      calls.set(SecretId, (calls.get(SecretId) ?? 0) + 1);
      const value = secrets.get(SecretId);
      if (value === undefined) return reply(400, { __type: 'ResourceNotFoundException', message: 'Secrets Manager can’t find the specified secret.' }, 'ResourceNotFoundException');
      return reply(200, { ARN: SecretId, Name: SecretId.split(':').pop(), SecretString: value, VersionId: `v${calls.get(SecretId)}`, VersionStages: ['AWSCURRENT'], CreatedDate: Date.now() / 1000 });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    endpoint,
    secrets,
    calls,
    client: () => new SecretsManagerClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 }),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

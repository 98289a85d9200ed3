/**
 * dynalite with a revocation (denylist) table shaped like the one JwtSessionKeys creates:
 * partition key `pk` (S); the `ttl` attribute is written but dynalite has no TTL deletion.
 */
import { CreateTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { startDynalite, type Dynalite } from './dynalite';

export const REVOCATION_TABLE = 'revocations';

export async function startDenylistDynalite(): Promise<Dynalite> {
  const dyn = await startDynalite('unused-sessions');
  const client = dyn.client();
  try {
    await client.send(
      new CreateTableCommand({
        TableName: REVOCATION_TABLE,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      }),
    );
    const deadline = Date.now() + 10_000;
    for (;;) {
      const out = await client.send(new DescribeTableCommand({ TableName: REVOCATION_TABLE })).catch(() => undefined);
      if (out?.Table?.TableStatus === 'ACTIVE') break;
      if (Date.now() > deadline) throw new Error('revocation table not ACTIVE');
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    client.destroy();
  }
  return dyn;
}

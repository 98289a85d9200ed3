/**
 * dynalite with a revocation (denylist) table shaped like the one JwtSessionKeys creates:
 * partition key `pk` (S); the `ttl` attribute is written but dynalite has no TTL deletion.
 */
import { createHashKeyTable, startDynalite, waitForTableActive, type Dynalite } from './dynalite';

export const REVOCATION_TABLE = 'revocations';

export async function startDenylistDynalite(): Promise<Dynalite> {
  const dyn = await startDynalite('unused-sessions');
  const client = dyn.client();
  try {
    await createHashKeyTable(client, REVOCATION_TABLE, 'pk');
    await waitForTableActive(client, REVOCATION_TABLE);
  } finally {
    client.destroy();
  }
  return dyn;
}

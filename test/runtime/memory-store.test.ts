import { MemoryStore } from '../../lambda/session/stores/memory';
import { SessionManager } from '../../lambda/session/manager';
import { describeStoreConformance } from '../support/conformance';

// Instance-local: one process's Map. The suite's "two servers" share it here, as two managers
// in one process would; across real instances memory sessions are not shared (sticky topology).
const shared = new MemoryStore();
describeStoreConformance('memory', () => ({ makeStore: async () => shared }));

describe('memory store', () => {
  it('keeps sessions per process: a second store instance does not see them (why sticky sessions need the LB)', async () => {
    const secrets = ['memory-secret-memory-secret-memory!!'];
    const a = new SessionManager({ store: new MemoryStore(), secrets });
    const b = new SessionManager({ store: new MemoryStore(), secrets });
    const s = await a.create({ user: 'ada' });
    expect(await a.loadById(s.id)).toBeDefined();
    expect(await b.loadById(s.id)).toBeUndefined();
  });

  it('sweeps expired sessions so memory does not grow without bound', async () => {
    const store = new MemoryStore({ sweepEvery: 10 });
    const m = new SessionManager({ store, secrets: ['memory-secret-memory-secret-memory!!'], idleTimeoutSeconds: 0.05, absoluteTimeoutSeconds: 1 });
    for (let i = 0; i < 9; i++) await m.create({ i });
    await new Promise((r) => setTimeout(r, 80));
    await m.create({ i: 9 }); // 10th write triggers the sweep
    expect(store.size).toBe(1);
  });
});

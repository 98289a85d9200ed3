/**
 * `npm run docs:alarms`: rewrites README's per-topology alarm tables (`<!-- alarms:begin -->` …
 * `<!-- alarms:end -->`) from the alarms the reference stacks create (test/support/alarm-docs.ts).
 * test/constructs/monitoring/readme-alarms.test.ts fails until this is run after an alarm changes.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { cdkJsonContext } from '../test/constructs/helpers';
import { ALARMS_BLOCK, referenceStacks, renderAlarmTables } from '../test/support/alarm-docs';
import { README, replaceReadmeBlock } from '../test/support/readme';

const tables = renderAlarmTables(referenceStacks(cdkJsonContext()));
writeFileSync(README, replaceReadmeBlock(readFileSync(README, 'utf8'), ALARMS_BLOCK, tables));
console.log(`README.md: alarm tables rewritten (${tables.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| alarm') && !l.startsWith('| ---')).length} alarms)`);

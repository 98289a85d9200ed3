/**
 * README's per-topology alarm tables are the alarms the reference stacks create: same names, same
 * thresholds and periods, the same meaning and runbook as each alarm's description. A changed
 * alarm fails here until `npm run docs:alarms` rewrites the tables.
 */
import { readFileSync } from 'node:fs';
import { ALARMS_BLOCK, referenceStacks, renderAlarmTables } from '../../support/alarm-docs';
import { README } from '../../support/readme';
import { cdkJsonContext } from '../helpers';

test('README lists every alarm of every reference stack, as the constructs create it', () => {
  const readme = readFileSync(README, 'utf8');
  const begin = `<!-- ${ALARMS_BLOCK}:begin -->`;
  const end = `<!-- ${ALARMS_BLOCK}:end -->`;
  expect(readme).toContain(begin);
  const inReadme = readme.slice(readme.indexOf(begin) + begin.length, readme.indexOf(end)).trim();
  const made = renderAlarmTables(referenceStacks(cdkJsonContext())).trim();
  // Every reference stack has a table and every table rows; a README edit by hand shows here as a diff.
  expect(made.match(/^#### /gm)).toHaveLength(7);
  if (inReadme !== made) throw new Error('README.md alarm tables differ from the alarms the reference stacks create: run `npm run docs:alarms`.\n\nExpected:\n' + made);
});

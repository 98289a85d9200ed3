/** Every reference stack outputs the session page's URL (GET /, lambda/app/page.ts): the load balancer's or the API's root. */
import { Template } from 'aws-cdk-lib/assertions';
import { addReferenceStacks } from '../../bin/nag';
import { newApp } from './helpers';

test('every reference stack outputs PageUrl: the fleet load balancer\'s root where there is a fleet, else the HTTP API stage URL', () => {
  const stacks = addReferenceStacks(newApp({ flags: true }));
  const kinds: Record<string, string> = {};
  for (const [name, stack] of Object.entries(stacks)) {
    const value = Template.fromStack(stack).findOutputs('PageUrl').PageUrl?.Value;
    expect({ name, defined: value !== undefined }).toEqual({ name, defined: true });
    const text = JSON.stringify(value);
    kinds[name] = text.includes('DNSName') ? 'fleet' : text.includes('execute-api') ? 'api' : text;
    if (kinds[name] === 'fleet') expect(value['Fn::Join'][1].at(-1)).toBe('/'); // the page is the root path
  }
  expect(kinds).toEqual({ sticky: 'fleet', redis: 'fleet', dynamodb: 'api', s3: 'api', jwt: 'api', memcached: 'fleet', rds: 'fleet' });
});

import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { RegionInfo } from 'aws-cdk-lib/region-info';
import { addReferenceStacks } from '../../../bin/nag';
import { COMMERCIAL_REGIONS } from '../../../lib/core/regions';
import { cdkJsonContext } from '../helpers';

/** A key that names a region of any partition (us-east-1, ap-southeast-7, us-gov-west-1, cn-north-1, ...). */
const REGION_KEY = /^[a-z]{2,4}(-[a-z]+)*-[a-z]+-\d+$/;

/** The reference stacks as `cdk synth` makes them in CI: environment-agnostic, cdk.json's flags. */
function referenceTemplates(): [string, Template][] {
  const app = new App({ context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] } });
  const stacks = addReferenceStacks(app);
  return Object.values(stacks).map((s: Stack) => [s.stackName, Template.fromStack(s)]);
}

/** Every `Fn::FindInMap` in `node`, as its [mapping, top-level key] arguments. */
function findInMaps(node: unknown, out: unknown[][] = []): unknown[][] {
  if (Array.isArray(node)) node.forEach((n) => findInMaps(n, out));
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === 'Fn::FindInMap' && Array.isArray(v)) out.push(v);
      findInMaps(v, out);
    }
  }
  return out;
}

const isRegionRef = (key: unknown) => JSON.stringify(key) === JSON.stringify({ Ref: 'AWS::Region' });

describe('regions', () => {
  test('the region list has every commercial region aws-cdk-lib knows, once each', () => {
    const known = RegionInfo.regions.filter((r) => r.partition === 'aws').map((r) => r.name);
    expect(known.length).toBeGreaterThan(30);
    expect([...COMMERCIAL_REGIONS].sort()).toEqual(expect.arrayContaining(known));
    expect(new Set(COMMERCIAL_REGIONS).size).toBe(COMMERCIAL_REGIONS.length);
    for (const r of COMMERCIAL_REGIONS) expect(r).toMatch(REGION_KEY);
  });

  describe('every reference stack deploys in every commercial region', () => {
    const templates = referenceTemplates();

    test.each(templates)('%s: every region-keyed mapping names every region in the list', (_, template) => {
      const mappings = (template.toJSON().Mappings ?? {}) as Record<string, Record<string, unknown>>;
      for (const [name, mapping] of Object.entries(mappings)) {
        if (!Object.keys(mapping).some((k) => REGION_KEY.test(k))) continue; // keyed by partition or other
        const missing = COMMERCIAL_REGIONS.filter((r) => !(r in mapping));
        expect({ mapping: name, missing }).toEqual({ mapping: name, missing: [] });
      }
    });

    test.each(templates)('%s: every lookup by AWS::Region reads a mapping that names every region in the list', (_, template) => {
      const json = template.toJSON();
      const mappings = (json.Mappings ?? {}) as Record<string, Record<string, unknown>>;
      for (const [name, key] of findInMaps(json).filter((args) => isRegionRef(args[1]))) {
        const mapping = mappings[name as string] ?? {};
        const missing = COMMERCIAL_REGIONS.filter((r) => !(r in mapping));
        expect({ mapping: name, missing }).toEqual({ mapping: name, missing: [] });
        expect(isRegionRef(key)).toBe(true);
      }
    });

    test.each(templates)('%s: no machine image is an SSM parameter resolved at every deploy', (_, template) => {
      const params = (template.toJSON().Parameters ?? {}) as Record<string, { Type: string; Default?: string }>;
      const images = Object.values(params).filter((p) => p.Type.startsWith('AWS::SSM::Parameter::Value') && /\/ami-|Image/.test(`${p.Default} ${p.Type}`));
      expect(images).toEqual([]);
    });
  });
});

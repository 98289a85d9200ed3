/**
 * Every region of the commercial AWS partition (`aws`), as of December 2026: the one list
 * the construct tests check every region-keyed lookup against.
 *
 * A template that reads a value by `AWS::Region` (`Fn::FindInMap` over a `Mappings` section)
 * fails to deploy in any region its mapping leaves out. The constructs of this library avoid such
 * lookups; where one is needed, its mapping must name every region here. When AWS opens a region,
 * add it here: the tests then fail for every mapping that does not cover it, and they also check
 * that this list has every `aws` region the installed aws-cdk-lib knows.
 */
export const COMMERCIAL_REGIONS: readonly string[] = [
  'af-south-1',
  'ap-east-1',
  'ap-east-2',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ap-south-1',
  'ap-south-2',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
  'ap-southeast-4',
  'ap-southeast-5',
  'ap-southeast-6',
  'ap-southeast-7',
  'ca-central-1',
  'ca-west-1',
  'eu-central-1',
  'eu-central-2',
  'eu-north-1',
  'eu-south-1',
  'eu-south-2',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'il-central-1',
  'me-central-1',
  'me-south-1',
  'me-west-1',
  'mx-central-1',
  'sa-east-1',
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
];

#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { addGuardChecks, addNagChecks, addReferenceStacks } from './nag';

// One stack per session topology, in the account and region the CDK CLI resolved from the
// caller's credentials and configuration. Without credentials (CI) CDK_DEFAULT_ACCOUNT is unset
// and the stacks stay account-agnostic: `npx cdk synth --quiet` then needs no AWS access and no
// Docker (esbuild bundles locally). With credentials, the instances' AMI is looked up once and
// pinned in cdk.context.json.
const app = new App();
addReferenceStacks(app, { env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION } });
addNagChecks(app);
addGuardChecks(app);
app.synth();

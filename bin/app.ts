#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { addGuardChecks, addNagChecks, addReferenceStacks } from './nag';

// One environment-agnostic stack per session topology: `npx cdk synth --quiet` needs no AWS
// credentials and no Docker (esbuild bundles locally).
const app = new App();
addReferenceStacks(app);
addNagChecks(app);
addGuardChecks(app);
app.synth();

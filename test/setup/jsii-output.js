/**
 * Setup of jest.jsii-output.config.js: fails every suite unless lib/ resolves to the jsii-built
 * dist/lib (jsii marks each class with its runtime type info; ts-jest's build of the sources has none).
 */
const lib = require('../../lib');

const rtti = lib.RedisSessions[Symbol.for('jsii.rtti')];
if (!rtti || rtti.fqn !== 'cdk-sessions.RedisSessions') {
  throw new Error('lib/ did not resolve to the jsii build in dist/lib: run npm run jsii first (npm run test:jsii-output does)');
}

export * from './common';
export * from './fleet-server';
export * from './instance-fleet';
export * from './runtime-assets';
export * from './session-api';
export * from './vpc';

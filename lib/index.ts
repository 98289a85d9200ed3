export * from './core/session-store';
export * from './stores';
export * from './compute';
export * from './topologies';
export * from './monitoring';
/** The environment variable names a store's binding hands to its consumers (the runtime reads the same names). */
export { SessionEnvVars } from '../lambda/session/env';

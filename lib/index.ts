export * from './core/session-store';
export * from './stores';
export * from './compute';
export * from './topologies';

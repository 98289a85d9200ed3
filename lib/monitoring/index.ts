export * from './session-monitoring';

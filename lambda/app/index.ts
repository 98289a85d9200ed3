export { createApp, errorResponse, sessionHash, DEFAULT_MAX_BODY_BYTES } from './app';
export type { App, AppOptions } from './app';
export type { AppLogger, AppRequest, AppResponse } from './types';
export * from './errors';
export { LIMITS } from './validate';

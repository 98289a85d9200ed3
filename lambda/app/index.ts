/**
 * `cdk-sessions/runtime/app`: the reference app the constructs deploy by default (login, session,
 * cart, prefs, logout, healthz; design.md lists the routes), as one request → response function,
 * its node:http server adapter, the JWT variant of the app and the authenticators
 * (SESSION_AUTH: Cognito or open). Build your own app on `cdk-sessions/runtime` instead; these are
 * exported for teams that start from the reference app and for the package's prebuilt bundles.
 */
export { createApp, errorResponse, sessionHash, DEFAULT_MAX_BODY_BYTES } from './app';
export type { App, AppOptions } from './app';
export type { AppLogger, AppRequest, AppResponse } from './types';
export * from './errors';
export { LIMITS } from './validate';
export { createAppFromEnv } from './from-env';
export type { AppFromEnvOptions, RuntimeApp } from './from-env';
export { createJwtApp, JWKS_MAX_AGE_SECONDS } from './jwt-app';
export type { JwtAppOptions } from './jwt-app';
export { createInstanceServer } from '../instance/server';
export type { InstanceServer, InstanceServerOptions } from '../instance/server';
export * from '../session/auth';

/**
 * The compute that serves sessions: the instance fleet behind an ALB (running the reference
 * server or yours, `FleetServer`) and the Lambda session API. Only the public API; helpers
 * (bundling, VPC and runtime-option plumbing) stay in their modules.
 */
export type { SessionRuntimeOptions } from './common';
export { FleetServer } from './fleet-server';
export type { FleetServerAssetOptions, FleetServerBindOptions, FleetServerConfig, FleetServerEntryOptions } from './fleet-server';
export { InstanceFleet, StickinessType } from './instance-fleet';
export type { FleetCommonProps, FleetOptions, InstanceFleetProps, StickinessOptions } from './instance-fleet';
export { SessionApi } from './session-api';
export type { ApiOptions, SessionApiProps } from './session-api';
export type { SessionVpcProps } from './vpc';

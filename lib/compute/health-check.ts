/**
 * The load balancer's health check of an instance, in one place: the target group uses it, and
 * the local lab's haproxy uses the same path, thresholds and timeout (scaled in time only), so a
 * scenario that keeps an instance "healthy" locally keeps it healthy on an ALB too.
 *
 * The check asks `/healthz`, which is liveness of this instance only (the process serves and its
 * event loop answers); it never depends on the session store, so a store outage or failover
 * cannot make the Auto Scaling group replace the fleet. Store health is in `/readyz`, in
 * metrics, and in the 503s that requests get.
 */
export const INSTANCE_HEALTH_CHECK = {
  /** Liveness route of the instance server. */
  path: '/healthz',
  /** Seconds between checks. */
  intervalSeconds: 15,
  /** Seconds a check may take before it counts as failed. */
  timeoutSeconds: 5,
  /** Consecutive passes before an instance takes traffic. */
  healthyThresholdCount: 2,
  /** Consecutive failures before an instance is unhealthy (and, with ELB checks, replaced). */
  unhealthyThresholdCount: 3,
} as const;

/**
 * How long a new instance may take from launch until its server answers, seconds: the Auto
 * Scaling group waits this long for each instance's CloudFormation signal (on create and on every
 * rolling update) and gives a new instance this long before ELB health checks count. First boot
 * installs packages through the NAT gateway, downloads the bundle and starts the server, about a
 * minute on a t4g.small; the bound leaves room for a slow package mirror.
 */
export const INSTANCE_BOOT_TIMEOUT_SECONDS = 600;

/** How long first boot waits for the started server to answer the health check on loopback, seconds. */
export const LOCAL_HEALTH_WAIT_SECONDS = 120;

/** How long a dependency may be down before a health check that depended on it would fail the fleet, seconds. */
export const UNHEALTHY_AFTER_SECONDS = INSTANCE_HEALTH_CHECK.intervalSeconds * INSTANCE_HEALTH_CHECK.unhealthyThresholdCount;

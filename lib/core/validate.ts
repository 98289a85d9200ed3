import { Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * Thrown when a construct's props are invalid. `problems` lists every problem found, so a user
 * fixes them all in one pass instead of one synth per mistake.
 */
export class PropsValidationError extends Error {
  constructor(
    /** Path of the construct whose props were rejected. */
    readonly constructPath: string,
    /** Every problem, one sentence each. */
    readonly problems: readonly string[],
  ) {
    super(`Invalid props for ${constructPath}:\n  - ${problems.join('\n  - ')}`);
    this.name = 'PropsValidationError';
  }
}

/**
 * Throws one {@link PropsValidationError} listing every problem, or returns when there is none.
 * Call it once, at the top of a constructor, after collecting all checks.
 */
export function validateProps(scope: IConstruct, problems: readonly string[]): void {
  if (problems.length > 0) throw new PropsValidationError(scope.node.path, problems);
}

/**
 * Collects a problem when `value` is a concrete number outside `[min, max]` or not whole.
 * Tokens are skipped: they are only known at deploy time.
 */
export function checkInt(problems: string[], name: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined || Token.isUnresolved(value)) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    problems.push(`${name} must be a whole number from ${min} to ${max}, got ${value}`);
  }
}

/** Collects a problem when more than one of the named props is set. */
export function checkExclusive(problems: string[], props: Record<string, unknown>): void {
  const set = Object.entries(props)
    .filter(([, v]) => v !== undefined)
    .map(([k]) => k);
  if (set.length > 1) problems.push(`${set.join(' and ')} are mutually exclusive; set only one`);
}

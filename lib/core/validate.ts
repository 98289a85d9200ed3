import { Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * Thrown when a construct's props are invalid. `problems` lists every problem found, so a user
 * fixes them all in one pass instead of one synth per mistake.
 *
 * Not exported from the package: jsii cannot carry a class that extends `Error` to Python, Java,
 * .NET or Go. Every language tells it apart with {@link PropsValidation} (as aws-cdk-lib's `Errors`).
 */
export class PropsValidationError extends Error {
  /** Marks the error across copies of this module (a second install), as `instanceof` cannot. */
  private static readonly MARKER = Symbol.for('cdk-sessions.PropsValidationError');

  constructor(
    /** Path of the construct whose props were rejected. */
    readonly constructPath: string,
    /** Every problem, one sentence each. */
    readonly problems: readonly string[],
  ) {
    super(`Invalid props for ${constructPath}:\n  - ${problems.join('\n  - ')}`);
    this.name = 'PropsValidationError';
    Object.defineProperty(this, PropsValidationError.MARKER, { value: true });
  }

  /** Whether `x` is a PropsValidationError, from this copy of the module or another one. */
  static is(x: unknown): x is PropsValidationError {
    return typeof x === 'object' && x !== null && (x as { [k: symbol]: unknown })[PropsValidationError.MARKER] === true;
  }
}

/**
 * Tells the error a construct throws for invalid props apart from others, in every language:
 * `PropsValidation.isPropsValidationError(e)` and `PropsValidation.problemsOf(e)` (every problem
 * found, one sentence each), as aws-cdk-lib's `Errors.isValidationError`.
 */
export class PropsValidation {
  /** Whether `x` is the error a construct of this library throws for invalid props. */
  public static isPropsValidationError(x: any): boolean {
    return PropsValidationError.is(x);
  }

  /** Every problem the error lists, one sentence each; empty when `x` is not such an error. */
  public static problemsOf(x: any): string[] {
    return PropsValidationError.is(x) ? [...x.problems] : [];
  }

  /** Path of the construct whose props were rejected; undefined when `x` is not such an error. */
  public static constructPathOf(x: any): string | undefined {
    return PropsValidationError.is(x) ? x.constructPath : undefined;
  }

  private constructor() {}
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

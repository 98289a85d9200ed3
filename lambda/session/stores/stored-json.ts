import { StoreUnavailableError } from '../errors';

/**
 * `text` as a store wrote it, parsed. Text that is not JSON (a value this store did not write, or
 * a stand-in that kept half a write) is the store failing: StoreUnavailableError (503, counted as
 * a store error), never a crash nor "no session". `what` names the value in the error.
 */
export function parseStoredJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new StoreUnavailableError(`${what} is not JSON`, { cause: err });
  }
}

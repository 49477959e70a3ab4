// Two hazards of the bindings live here: an exception thrown into WASM silently kills event delivery
// for that node, and Rust holds JS callback objects only weakly (a collected one panics the whole
// WASM instance). Every `new_impl` body goes through `guard`, every implementation through `Retainer`.

export type CallbackErrorSink = (where: string, error: unknown) => void;

/**
 * Wraps a callback so it never throws into WASM: on error it reports to `sink` and returns
 * `fallback` (a value, or a function of the same arguments computing one).
 */
export function guard<A extends unknown[], R>(
  where: string,
  fn: (...args: A) => R,
  fallback: R | ((...args: A) => R),
  sink: CallbackErrorSink,
): (...args: A) => R {
  return (...args: A): R => {
    try {
      return fn(...args);
    } catch (error) {
      try {
        sink(where, error);
      } catch {
        // the sink itself failed; nothing sane is left to report to, and we must not throw into WASM
      }
      return typeof fallback === 'function' ? (fallback as (...a: A) => R)(...args) : fallback;
    }
  };
}

/**
 * Strong references for the node's life: trait implementations, their JS impl objects, registered
 * future callbacks, socket descriptors. `release` is only for objects LDK has provably dropped
 * (a socket after `socket_disconnected`).
 */
export class Retainer {
  private readonly kept = new Set<unknown>();

  keep<T>(value: T): T {
    this.kept.add(value);
    return value;
  }

  release(value: unknown): void {
    this.kept.delete(value);
  }

  get size(): number {
    return this.kept.size;
  }
}

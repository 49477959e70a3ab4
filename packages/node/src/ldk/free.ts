// Freeing LDK wrapper objects now instead of when V8 finalizes them. A wrapper's Rust memory (a
// ChannelDetails, an Event, a log Record, a Result) lives in WASM linear memory, which never shrinks;
// the JS wrapper is tiny, so V8 feels no pressure to collect it and the WASM heap grows by tens of KB
// per payment until the 1 GiB cap kills the instance. The bindings have no public `free()` (only the
// lock guards do): this calls the generated `<Type>_free` and unregisters the finalizer, as the lock
// guards' own `free()` does.
//
// Safe to free: objects packages/node made or received and no longer uses. The bindings clone every
// argument passed by value (or null the wrapper when they move it: ptr 0, skipped here), so an
// argument can be freed after the call. Children read from a parent (a Result's `res`, an event's
// `path`) may point into the parent's memory: free the parent only once done with its children.
// Objects LDK holds (trait implementations, the ChannelManager, anything in the Retainer) are never
// temporaries.
import * as bindings from 'lightningdevkit/bindings.mjs';
import { CommonBase } from 'lightningdevkit/structs/CommonBase.mjs';

type FreeFn = (ptr: bigint) => void;
const byName = bindings as unknown as Record<string, FreeFn | undefined>;
const freeFns = new Map<unknown, FreeFn | null>();
// the generated free functions are named after the C type: Result_X → CResult_X, TwoTuple_X → C2Tuple_X
const C_NAMES: Array<[RegExp, string]> = [
  [/^Result_/, 'CResult_'],
  [/^Option_/, 'COption_'],
  [/^TwoTuple_/, 'C2Tuple_'],
  [/^ThreeTuple_/, 'C3Tuple_'],
  [/^FourTuple_/, 'C4Tuple_'],
];

/** The generated free function of the class that first extends CommonBase (Event for Event_PaymentSent). */
function freeFnOf(object: object): FreeFn | null {
  const ctor = object.constructor;
  let fn = freeFns.get(ctor);
  if (fn !== undefined) return fn;
  fn = null;
  for (let c = ctor; c && c !== CommonBase && !fn; c = Object.getPrototypeOf(c)) {
    const name = (c as { name: string }).name;
    const cName = C_NAMES.reduce((n, [from, to]) => n.replace(from, to), name);
    fn = byName[`${name}_free`] ?? byName[`${cName}_free`] ?? null;
  }
  freeFns.set(ctor, fn);
  return fn;
}

/** An LDK wrapper, an array of them, or nothing (the bindings' `ptr` is protected in their typings). */
type Freeable = object | null | undefined;
/** Marks an LDK object (or an array of them) as a temporary of the current `withLdk` call. */
export type Own = <T extends Freeable>(object: T) => T;

/**
 * Frees LDK wrappers now (arrays of them too). Null wrappers, moved ones and ones already freed
 * (ptr 0) are skipped, so freeing twice is harmless; lock guards use their own `free()`.
 */
export function freeLdk(...objects: Freeable[]): void {
  for (const item of objects) {
    if (Array.isArray(item)) {
      for (const o of item) freeOne(o);
    } else {
      freeOne(item);
    }
  }
}

function freeOne(object: unknown): void {
  if (!object || typeof object !== 'object') return;
  const ptr = (object as { ptr?: unknown }).ptr;
  if (typeof ptr !== 'bigint' || ptr === 0n) return;
  const free = freeFnOf(object);
  if (!free) return; // a lock guard or an unknown type: left to its own free() or the finalizer
  // unregisters the finalizer (it throws when there is none: then someone else owns the pointer)
  (CommonBase as unknown as { set_null_skip_free(o: object): void }).set_null_skip_free(object);
  free(ptr);
}

/**
 * Runs `fn` with `own`, which marks an LDK object as a temporary of this call; every owned object
 * is freed when `fn` returns or throws. Return only plain values (bytes, bigints, strings) out of
 * `fn`, never an owned object or a child of one.
 *
 * @example
 * const outboundMsat = withLdk((own) => {
 *   let sum = 0n;
 *   for (const c of own(cm.list_usable_channels())) sum += c.get_outbound_capacity_msat();
 *   return sum;
 * });
 */
export function withLdk<R>(fn: (own: Own) => R): R {
  const owned: Freeable[] = [];
  try {
    return fn((object) => {
      owned.push(object);
      return object;
    });
  } finally {
    freeLdk(...owned);
  }
}

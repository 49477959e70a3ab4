// Freeing LDK wrapper objects now instead of when V8 finalizes them. A wrapper's Rust memory (a
// ChannelDetails, an Event, a log Record, a Result) lives in WASM linear memory, which never shrinks;
// the JS wrapper is tiny, so V8 feels no pressure to collect it and the WASM heap grows by tens of KB
// per payment until the 1 GiB cap kills the instance. The bindings have no public `free()` (only the
// lock guards do): this calls the generated `<Type>_free` and unregisters the finalizer, as the lock
// guards' own `free()` does.
//
// The free function is the one the class that first extends CommonBase hands to `super(ptr, free)`
// (what the finalizer would call), read by a probe (`probeFree`), not looked up by name: a lookup
// by name would need the bindings' whole namespace (all 7,877 WASM wrappers, unshakeable: 111 KB
// gzip in the wallet's worker) and finds nothing once a minifier has renamed the classes.
//
// Safe to free: objects packages/node made or received and no longer uses. The bindings clone every
// argument passed by value (or null the wrapper when they move it: ptr 0, skipped here), so an
// argument can be freed after the call. Children read from a parent (a Result's `res`, an event's
// `path`) may point into the parent's memory: free the parent only once done with its children.
// Objects LDK holds (trait implementations, the ChannelManager, anything in the Retainer) are never
// temporaries.
import { CommonBase } from 'lightningdevkit/structs/CommonBase.mjs';

type FreeFn = (ptr: bigint) => void;
type Class = abstract new (...args: never[]) => object;
const freeFns = new Map<unknown, FreeFn | null>();
const PROBED = Symbol('free function read');

/**
 * The free function `base` (a class extending CommonBase directly) passes to CommonBase: for the
 * length of one synchronous call its super class is a probe that takes the function and throws, so
 * no object is made and nothing after `super` runs (some constructors read the pointer: 0 here).
 */
function probeFree(base: Class): FreeFn | null {
  let free: FreeFn | null = null;
  class Probe {
    constructor(_ptr: bigint, freeFn: FreeFn) {
      free = freeFn;
      throw PROBED;
    }
  }
  Object.setPrototypeOf(base, Probe);
  try {
    Reflect.construct(base, [null, 0n]);
  } catch (error) {
    if (error !== PROBED) throw error;
  } finally {
    Object.setPrototypeOf(base, CommonBase);
  }
  return free;
}

/** The free function of an object's type (Event's for Event_PaymentSent), or null for a lock guard. */
function freeFnOf(object: object): FreeFn | null {
  return freeFunctionOf(object.constructor);
}

/**
 * The free function of an LDK class, for code that holds a raw pointer the bindings handed over
 * without a wrapper (traits.ts, the logger); null for a lock guard.
 */
export function freeFunctionOf(ctor: object): FreeFn | null {
  let fn = freeFns.get(ctor);
  if (fn !== undefined) return fn;
  let base: Class | null = ctor as Class;
  while (base && Object.getPrototypeOf(base) !== CommonBase) base = Object.getPrototypeOf(base);
  // lock guards (LockedChannelMonitor, ReadOnlyNetworkGraph) have their own free(); their finalizer throws
  fn = base && typeof base.prototype.free !== 'function' ? probeFree(base) : null;
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

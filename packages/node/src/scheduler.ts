// Time, timers and randomness, injected so the core runs the same in Node, a browser worker and
// deterministic tests.

export interface Scheduler {
  /** Run soon, after the current call stack (never synchronously). */
  defer(fn: () => void): void;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

type Timers = {
  setImmediate?: (fn: () => void) => unknown;
  setTimeout: (fn: () => void, ms: number) => unknown;
  clearTimeout: (h: unknown) => void;
  setInterval: (fn: () => void, ms: number) => unknown;
  clearInterval: (h: unknown) => void;
  MessageChannel?: new () => {
    port1: { onmessage: (() => void) | null };
    port2: { postMessage(v: unknown): void };
  };
};

function macrotask(g: Timers): (fn: () => void) => void {
  if (g.setImmediate) return (fn) => g.setImmediate!(fn);
  if (g.MessageChannel) {
    // browsers clamp nested setTimeout(0) to 4 ms; a MessageChannel round trip is not clamped
    const queue: Array<() => void> = [];
    const channel = new g.MessageChannel();
    channel.port1.onmessage = () => queue.shift()?.();
    return (fn) => {
      queue.push(fn);
      channel.port2.postMessage(0);
    };
  }
  return (fn) => g.setTimeout(fn, 0);
}

export function defaultScheduler(): Scheduler {
  const g = globalThis as unknown as Timers;
  return {
    defer: macrotask(g),
    setTimeout: (fn, ms) => g.setTimeout(fn, ms),
    clearTimeout: (h) => g.clearTimeout(h),
    setInterval: (fn, ms) => g.setInterval(fn, ms),
    clearInterval: (h) => g.clearInterval(h),
  };
}

export function defaultRandomBytes(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  globalThis.crypto.getRandomValues(bytes);
  return bytes;
}

// Marks on the performance timeline of the realm a node starts in (a browser worker, a Node process),
// one per step of a start, named `lpw:<step>`: the wallet bench reads them from the PWA's worker to say
// where a start's time goes. A mark costs microseconds; nothing reads them in production.
const timeline = (globalThis as { performance?: { mark?: (name: string) => unknown } }).performance;

export function startMark(step: string): void {
  timeline?.mark?.(`lpw:${step}`);
}

/** What a payment trace receives: a step name and, for per-node steps, the node's peer host. */
export type PayTrace = (step: string, owner?: unknown) => void;

/**
 * A step on a payment's path (command, route, each commit and backup, each peer message), reported
 * only when a bench put `lpwPayTrace` on the realm's global: the hot path then costs one property
 * read, and a long-running LSP keeps no timeline of its payments.
 */
export function payTrace(step: string, owner?: unknown): void {
  (globalThis as { lpwPayTrace?: PayTrace }).lpwPayTrace?.(step, owner);
}

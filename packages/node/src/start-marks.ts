// Marks on the performance timeline of the realm a node starts in (a browser worker, a Node process),
// one per step of a start, named `lpw:<step>`: the wallet bench reads them from the PWA's worker to say
// where a start's time goes. A mark costs microseconds; nothing reads them in production.
const timeline = (globalThis as { performance?: { mark?: (name: string) => unknown } }).performance;

export function startMark(step: string): void {
  timeline?.mark?.(`lpw:${step}`);
}

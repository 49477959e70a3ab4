// The backup's steps on a payment's path, for the wallet bench: the same opt-in global as
// @lpw/node's `payTrace` (start-marks.ts), read here because this package takes no runtime code
// from the node. Without `lpwPayTrace` on the global it costs one property read.
export function payTrace(step: string): void {
  (globalThis as { lpwPayTrace?: (step: string) => void }).lpwPayTrace?.(step);
}

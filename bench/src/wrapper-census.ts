// Counts LDK wrapper objects alive per class (the bindings register each with a FinalizationRegistry):
// import this before lightningdevkit loads. Live counts that grow with payments are wrappers JS keeps,
// and with them their Rust memory in WASM.
const live = new Map<string, number>();
const created = new Map<string, number>();
const tokens = new WeakMap<object, string>();
const bump = (m: Map<string, number>, k: string, d: number) => m.set(k, (m.get(k) ?? 0) + d);

const Native = globalThis.FinalizationRegistry;
class CountingRegistry<T> extends Native<{ name: string; held: T }> {
  constructor(cleanup: (held: T) => void) {
    super(({ name, held }) => {
      bump(live, name, -1);
      cleanup(held);
    });
  }
  // @ts-expect-error: same call shape, the held value is wrapped
  override register(target: object, held: T, token?: object): void {
    const name = target.constructor.name.replace(/_[A-Z][A-Za-z]*$/, (s) =>
      /^(Event|Result)/.test(target.constructor.name) ? s : '',
    );
    bump(live, name, 1);
    bump(created, name, 1);
    if (token) tokens.set(token, name);
    super.register(target, { name, held }, token);
  }
  override unregister(token: object): boolean {
    const done = super.unregister(token);
    const name = tokens.get(token);
    if (done && name) bump(live, name, -1);
    return done;
  }
}
globalThis.FinalizationRegistry = CountingRegistry as unknown as typeof FinalizationRegistry;

const top = (m: Map<string, number>, n: number) =>
  Object.fromEntries([...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, n));
export const census = () => ({ live: top(live, 12), created: top(created, 15) });

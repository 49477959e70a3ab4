// The UI's end of the worker protocol: one typed `call` per command, snapshots handed to a listener.
// Only stores use this; screens call store actions.

import { compileLdk } from './ldk-module.ts';
import {
  type Command,
  type CommandResult,
  type FromWorker,
  type ToWorker,
  WalletCommandError,
  type WalletSnapshot,
} from './protocol.ts';

export interface NodeWorker {
  call<C extends Command>(command: C): Promise<CommandResult[C['type']]>;
  terminate(): void;
}

export function startNodeWorker(onSnapshot: (snapshot: WalletSnapshot) => void): NodeWorker {
  const worker = new Worker(new URL('./node.worker.ts', import.meta.url), { type: 'module', name: 'node' });
  let nextId = 1;
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  worker.addEventListener('message', (event: MessageEvent<FromWorker>) => {
    const message = event.data;
    if (message.type === 'snapshot') onSnapshot(message.snapshot);
    else if (message.type === 'log') console[message.level === 'error' ? 'error' : 'warn'](message.message);
    else {
      const entry = waiting.get(message.id);
      if (!entry) return;
      waiting.delete(message.id);
      if (message.ok) entry.resolve(message.value);
      else entry.reject(new WalletCommandError(message.error.code, message.error.message));
    }
  });
  worker.addEventListener('error', (event) => {
    for (const { reject } of waiting.values())
      reject(new WalletCommandError('WORKER_FAILED', event.message || 'The wallet engine stopped'));
    waiting.clear();
  });
  const call: NodeWorker['call'] = (command) => {
    const id = nextId++;
    return new Promise((resolve, reject) => {
      waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker.postMessage({ id, command } satisfies ToWorker);
    });
  };
  // a failed load is the error `open` reports
  void compileLdk().then((module) => call({ type: 'loadLdk', module }).catch(() => {}));
  return {
    call,
    terminate() {
      worker.terminate();
      for (const { reject } of waiting.values()) reject(new WalletCommandError('LOCKED', 'Wallet locked'));
      waiting.clear();
    },
  };
}

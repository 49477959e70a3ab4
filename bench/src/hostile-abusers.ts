// The hostile bench's abusers in a process of their own (hostile-run.ts forks it): abusers sharing the
// honest wallets' event loop delay the honest wallets' own timers and reads, which the bench would then
// book to the LSP. Started with its plan on argv; on any message it stops the abusers and sends back their
// tally and its CPU time.
import { ABUSE_KINDS, type AbuseKind, abuseAll, newTally, sharedAbort } from './hostile.ts';

const [url, payeeNodeId, count, kindList, net] = process.argv.slice(2);
if (!url || !payeeNodeId || !count || !process.send) {
  throw new Error('usage: fork hostile-abusers.ts <lsp url> <payee node id> <count> [kind,…] [net]');
}
const kinds = kindList ? (kindList.split(',') as AbuseKind[]) : undefined;
const unknown = kinds?.find((k) => !ABUSE_KINDS.includes(k));
if (unknown) throw new Error(`hostile-abusers: unknown abuse kind ${unknown}`);
const send = process.send.bind(process);
const tally = newTally();
const stop = sharedAbort();
const cpu0 = process.cpuUsage();
const abusing = abuseAll({
  url,
  payeeNodeId,
  count: Number(count),
  kinds,
  net: net ? Number(net) : undefined,
  tally,
  signal: stop.signal,
});
process.once('message', async () => {
  stop.abort();
  await abusing;
  const cpu = process.cpuUsage(cpu0);
  send({ tally, cpuMs: (cpu.user + cpu.system) / 1000 }, () => process.exit(0));
});
send('started');

// One measurement group in its own process (fresh heap, fresh WASM instance): `group.ts <name> <json>`.
import { measureBackup } from './backup-run.ts';
import { measureChainView } from './chainview-run.ts';
import { reportToParent } from './child.ts';
import { measureCrash } from './crash-run.ts';
import { measureFailover } from './failover-run.ts';
import { measureFeeWeather } from './fee-run.ts';
import { measureFloor } from './floor-run.ts';
import { measureGossip } from './gossip-run.ts';
import { measureHostile } from './hostile-run.ts';
import { measureL402 } from './l402-run.ts';
import { measureLspManyChannels } from './lsp-many-run.ts';
import { measureLspChannels, measureLspForwards } from './lsp-run.ts';
import { measureLspSoak } from './lsp-soak-run.ts';
import { measureProduct } from './product-run.ts';
import { measurePwaStream } from './pwa-stream-run.ts';
import { measureSoak } from './soak-run.ts';
import { measureStreams } from './stream-run.ts';
import { measureWallet } from './wallet-run.ts';

const [name, json] = process.argv.slice(2);
const p = JSON.parse(json ?? '{}') as Record<string, number>;
const num = (k: string) => {
  const v = p[k];
  if (typeof v !== 'number') throw new Error(`group ${name}: "${k}" expected a number`);
  return v;
};
switch (name) {
  case 'floor':
    reportToParent(await measureFloor(num('payments'), num('throughputPayments')));
    break;
  case 'product':
    reportToParent(await measureProduct(num('payments'), num('throughputPayments'), num('startRuns')));
    break;
  case 'gossip':
    reportToParent(await measureGossip(num('nodes'), num('channels'), num('routeQueries')));
    break;
  case 'lsp':
    reportToParent(await measureLspForwards(num('wallets'), num('forwardPayments')));
    break;
  case 'lsp-pg':
    reportToParent(await measureLspForwards(num('wallets'), num('forwardPayments'), 'postgres'));
    break;
  case 'lsp-channels':
    reportToParent(await measureLspChannels(num('wallets'), num('channelsPerWallet')));
    break;
  case 'lsp-many-channels':
    reportToParent(
      await measureLspManyChannels(num('wallets'), num('channelsPerWallet'), num('forwardPayments')),
    );
    break;
  case 'soak-long':
    reportToParent(await measureLspSoak(num('payments'), num('samples'), num('deadlineMs')));
    break;
  case 'soak':
    reportToParent(await measureSoak(num('payments'), num('deadlineMs')));
    break;
  case 'l402':
    reportToParent(await measureL402(num('requests'), num('purchases')));
    break;
  case 'stream':
    reportToParent(await measureStreams(num('seconds'), num('monitorPayments')));
    break;
  case 'wallet':
    reportToParent(await measureWallet(num('readyRuns'), num('payments')));
    break;
  case 'fees':
    reportToParent(await measureFeeWeather(num('rounds')));
    break;
  case 'backup':
    reportToParent(await measureBackup(num('latencyPayments'), num('payments')));
    break;
  case 'chainview':
    reportToParent(await measureChainView(num('startRuns'), num('blocks'), num('headerSpan')));
    break;
  case 'crash':
    reportToParent(await measureCrash(num('kills'), num('minutes')));
    break;
  case 'pwa-stream':
    reportToParent(await measurePwaStream(num('minutes')));
    break;
  case 'failover':
    reportToParent(await measureFailover(num('rounds')));
    break;
  case 'hostile':
    reportToParent(await measureHostile(num('wallets'), num('windowSec'), num('routesPerWallet')));
    break;
  default:
    throw new Error(`unknown group ${name}`);
}

// The wallet's reach beyond its own origin: a fetch for any site (direct where the site allows it,
// the LSP's relay under this wallet's session where the browser cannot) and the L402 sites the
// person pays — budget, spent and tokens per site in IndexedDB — with the actions the screens call.
import { get, keys, set } from 'idb-keyval';
import { create } from 'zustand';
import {
  type OpenedUrl,
  openPaidUrl,
  type PaidSite,
  type PaidUrlOffer,
  type SiteStore,
  setSiteBudget,
} from '../lib/paid-url.ts';
import { directFirstFetch } from '../lib/web-fetch.ts';
import { useWallet } from './wallet.ts';

const SITE_KEY = 'lpw-l402-site:';

/** `fetch` for any origin: directly, or through the LSP's relay when the browser cannot (routeOf). */
export const webFetch: typeof fetch = (input, init) =>
  directFirstFetch(useWallet.getState().relay, globalThis.location?.origin)(input, init);

const siteStore: SiteStore = {
  get: (origin) => get<PaidSite>(SITE_KEY + origin),
  put: (site) => set(SITE_KEY + site.origin, site),
};

export interface PaidUrlPrompts {
  /** The first payment at a site: resolve with the budget (msat) the person set, reject to cancel. */
  askBudget(offer: PaidUrlOffer): Promise<bigint>;
  onPaying?(offer: PaidUrlOffer): void;
}

interface WebState {
  /** Sites known on this device, by origin (loaded by `loadSites`, kept current by the actions). */
  sites: Record<string, PaidSite>;
  loadSites(): Promise<void>;
  openUrl(url: string, prompts: PaidUrlPrompts): Promise<OpenedUrl>;
  setBudget(origin: string, budgetMsat: bigint): Promise<void>;
}

export const useWeb = create<WebState>((setState, getState) => {
  const remember = (site: PaidSite) => setState({ sites: { ...getState().sites, [site.origin]: site } });
  return {
    sites: {},
    async loadSites() {
      const names = (await keys()).filter(
        (k): k is string => typeof k === 'string' && k.startsWith(SITE_KEY),
      );
      const sites = await Promise.all(names.map((k) => get<PaidSite>(k)));
      setState({ sites: Object.fromEntries(sites.filter((s) => s !== undefined).map((s) => [s.origin, s])) });
    },
    async openUrl(url, prompts) {
      const wallet = useWallet.getState;
      const opened = await openPaidUrl(url, {
        fetch: webFetch,
        store: {
          get: siteStore.get,
          put: async (site) => {
            await siteStore.put(site);
            remember(site);
          },
        },
        pay: async (bolt11, _amountMsat, maxFeeMsat) => {
          const paid = await wallet().pay(bolt11, undefined, maxFeeMsat);
          return { preimage: paid.preimage, feeMsat: paid.feeMsat };
        },
        paymentOutcome: (paymentHash) => {
          const payment = wallet().snapshot?.payments.find((p) => p.id === paymentHash);
          if (payment?.status === 'succeeded' && payment.preimage)
            return {
              preimage: payment.preimage,
              ...(payment.feeMsat !== undefined ? { feeMsat: payment.feeMsat } : {}),
            };
          if (payment?.status === 'failed') return { failed: true };
          return undefined;
        },
        askBudget: prompts.askBudget,
        ...(prompts.onPaying ? { onPaying: prompts.onPaying } : {}),
        nowMs: Date.now,
      });
      remember(opened.site);
      return opened;
    },
    async setBudget(origin, budgetMsat) {
      remember(await setSiteBudget(siteStore, origin, budgetMsat));
    },
  };
});

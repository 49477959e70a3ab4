// Settings: the LSP (chosen on the welcome screen, which offers the default of the config.json
// served beside the app), display unit and fiat currency, the most a channel opening may cost, the chain source
// (default: the LSP's) and a second one to compare it with, and how long the LSP may be gone before
// Home suggests leaving it. Kept in idb-keyval; msat inside.
import { get, set } from 'idb-keyval';
import { create } from 'zustand';
import { defaultLspUrl } from '../lib/connect-url.ts';
import type { Unit } from '../lib/units.ts';

export interface Settings {
  /** The LSP's origin; '' until the person chooses one (the welcome screen). */
  lspUrl: string;
  unit: Unit;
  /** ISO 4217 code of the fiat shown beside sats; '' for none. */
  currency: string;
  /** Refuse a JIT channel whose opening fee is above this. */
  feeCapMsat: bigint;
  /** An Esplora base URL to read the chain from; empty: the one the LSP names. */
  esploraUrl: string;
  /** A second Esplora compared with the first (a warning on Home when they disagree); empty: none. */
  secondEsploraUrl: string;
  /** Home offers to leave (force close) once the LSP has not answered for this long. */
  leaveAfterMs: number;
}

const KEY = 'lpw-settings';
export const DEFAULT_FEE_CAP_MSAT = 5_000_000n; // 5,000 sats
export const DEFAULT_LEAVE_AFTER_MS = 3 * 24 * 3_600_000; // 3 days

export const defaultSettings = (): Settings => ({
  lspUrl: '',
  unit: 'sat',
  currency: 'USD',
  feeCapMsat: DEFAULT_FEE_CAP_MSAT,
  esploraUrl: '',
  secondEsploraUrl: '',
  leaveAfterMs: DEFAULT_LEAVE_AFTER_MS,
});

interface SettingsState extends Settings {
  loaded: boolean;
  load(): Promise<void>;
  update(changes: Partial<Settings>): Promise<void>;
}

export const useSettings = create<SettingsState>((setState, getState) => ({
  ...defaultSettings(),
  loaded: false,
  async load() {
    const stored = await get<Partial<Settings>>(KEY).catch(() => undefined);
    // until the person has chosen: what this copy of the app offers
    const lspUrl = stored?.lspUrl || ((await defaultLspUrl()) ?? '');
    setState({ ...defaultSettings(), ...stored, lspUrl, loaded: true });
  },
  async update(changes) {
    const { lspUrl, unit, currency, feeCapMsat, esploraUrl, secondEsploraUrl, leaveAfterMs } = {
      ...getState(),
      ...changes,
    };
    await set(KEY, {
      lspUrl,
      unit,
      currency,
      feeCapMsat,
      esploraUrl,
      secondEsploraUrl,
      leaveAfterMs,
    } satisfies Settings);
    setState(changes);
  },
}));

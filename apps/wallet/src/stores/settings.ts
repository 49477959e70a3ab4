// Settings: LSP URL (default: the origin the app came from), display unit, the most a channel
// opening may cost. Kept in idb-keyval; msat inside.
import { get, set } from 'idb-keyval';
import { create } from 'zustand';
import type { Unit } from '../lib/units.ts';

export interface Settings {
  lspUrl: string;
  unit: Unit;
  /** Refuse a JIT channel whose opening fee is above this. */
  feeCapMsat: bigint;
}

const KEY = 'lpw-settings';
export const DEFAULT_FEE_CAP_MSAT = 5_000_000n; // 5,000 sats

export const defaultSettings = (): Settings => ({
  lspUrl: globalThis.location?.origin ?? 'http://localhost',
  unit: 'sat',
  feeCapMsat: DEFAULT_FEE_CAP_MSAT,
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
    setState({ ...defaultSettings(), ...stored, loaded: true });
  },
  async update(changes) {
    const { lspUrl, unit, feeCapMsat } = { ...getState(), ...changes };
    await set(KEY, { lspUrl, unit, feeCapMsat } satisfies Settings);
    setState(changes);
  },
}));

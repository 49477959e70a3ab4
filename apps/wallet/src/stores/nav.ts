// Which screen is up. No URL routing: an installed wallet has one entry point, and a reload lands on
// the lock screen or home, never mid-payment.
import { create } from 'zustand';

export type Screen = 'home' | 'receive' | 'send' | 'streams' | 'channel' | 'onchain' | 'settings' | 'words';

interface NavState {
  screen: Screen;
  go(screen: Screen): void;
}

export const useNav = create<NavState>((set) => ({
  screen: 'home',
  go: (screen) => set({ screen }),
}));

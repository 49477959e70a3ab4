// Once per run, before any journey: the wallet the journeys test is the one that ships, built once.
import { buildWallet } from './wallet.ts';

export default function globalSetup(): void {
  buildWallet();
}

// The session: is there a wallet on this device, is it locked, and the vault operations (create,
// restore, unlock, lock, reveal words). Unlocking starts the node worker; locking ends it.
import { del, get, set } from 'idb-keyval';
import { create } from 'zustand';
import { checkStorage, deviceId, type StorageVerdict } from '../lib/device.ts';
import { deriveSecrets, openVault, sealMnemonic, type VaultRecord } from '../lib/vault.ts';
import { startNodeWorker } from '../worker/client.ts';
import { useNav } from './nav.ts';
import { useSettings } from './settings.ts';
import { useWallet } from './wallet.ts';

const VAULT_KEY = 'lpw-vault';
/** Set while a restored wallet has not fetched its channel state yet. */
const RESTORE_PENDING_KEY = 'lpw-restore-pending';
/** The person agreed (once, on this device) to keep a wallet in storage the browser may evict. */
const STORAGE_RISK_KEY = 'lpw-storage-risk-accepted';

export type Phase = 'loading' | 'no-wallet' | 'locked' | 'unlocked';

interface SessionState {
  phase: Phase;
  vault: VaultRecord | undefined;
  storage: StorageVerdict | undefined;
  /** The person agreed to go on with best-effort storage. */
  storageRiskAccepted: boolean;
  init(): Promise<void>;
  createWallet(mnemonic: string, pin: string): Promise<void>;
  /** `backupFile`: a backup file the person exported earlier, a copy the LSP does not control. */
  restoreWallet(mnemonic: string, pin: string, backupFile?: Uint8Array): Promise<void>;
  unlock(pin: string): Promise<void>;
  lock(): Promise<void>;
  revealWords(pin: string): Promise<string[]>;
  acceptStorageRisk(): void;
}

async function startNode(
  vault: VaultRecord,
  mnemonic: string,
  restore: boolean,
  restoreFile?: Uint8Array,
): Promise<void> {
  const secrets = deriveSecrets(mnemonic);
  const worker = startNodeWorker((snapshot) => useWallet.getState().receiveSnapshot(snapshot));
  useWallet.getState().attach(worker);
  await worker.call({
    type: 'open',
    request: {
      walletId: vault.walletId,
      nodeSeed: secrets.nodeSeed,
      backupKeys: secrets.backupKeys,
      streamKey: secrets.streamKey,
      lspUrl: useSettings.getState().lspUrl,
      esploraUrl: useSettings.getState().esploraUrl || undefined,
      secondEsploraUrl: useSettings.getState().secondEsploraUrl || undefined,
      deviceId: await deviceId(),
      restore,
      restoreFile,
    },
  });
  secrets.nodeSeed.fill(0);
  secrets.backupKeys.encryptionKey.fill(0);
  secrets.backupKeys.signingKey.fill(0);
  secrets.streamKey.fill(0);
}

export const useSession = create<SessionState>((setState, getState) => ({
  phase: 'loading',
  vault: undefined,
  storage: undefined,
  storageRiskAccepted: false,
  async init() {
    await useSettings.getState().load();
    const [vault, storage, accepted] = await Promise.all([
      get<VaultRecord>(VAULT_KEY).catch(() => undefined),
      checkStorage(),
      get<boolean>(STORAGE_RISK_KEY).catch(() => false),
    ]);
    setState({
      vault,
      storage,
      storageRiskAccepted: accepted === true,
      phase: vault ? 'locked' : 'no-wallet',
    });
  },
  async createWallet(mnemonic, pin) {
    const vault = await sealMnemonic(mnemonic, pin);
    await set(VAULT_KEY, vault);
    setState({ vault, phase: 'unlocked' });
    useNav.getState().go('home');
    await startNode(vault, mnemonic, false);
  },
  async restoreWallet(mnemonic, pin, backupFile) {
    const vault = await sealMnemonic(mnemonic, pin);
    await set(RESTORE_PENDING_KEY, vault.walletId);
    await set(VAULT_KEY, vault);
    setState({ vault, phase: 'unlocked' });
    useNav.getState().go('home');
    await startNode(vault, mnemonic, true, backupFile);
  },
  async unlock(pin) {
    const vault = getState().vault;
    if (!vault) throw new Error('No wallet on this device');
    const mnemonic = await openVault(vault, pin);
    const restore = (await get<string>(RESTORE_PENDING_KEY)) === vault.walletId;
    setState({ phase: 'unlocked' });
    useNav.getState().go('home');
    await startNode(vault, mnemonic, restore);
  },
  async lock() {
    const worker = useWallet.getState().worker;
    if (worker) {
      await Promise.race([worker.call({ type: 'close' }), new Promise((r) => setTimeout(r, 5_000))]).catch(
        () => {},
      );
      worker.terminate();
    }
    useWallet.getState().attach(undefined);
    setState({ phase: getState().vault ? 'locked' : 'no-wallet' });
  },
  async revealWords(pin) {
    const vault = getState().vault;
    if (!vault) throw new Error('No wallet on this device');
    return (await openVault(vault, pin)).split(' ');
  },
  acceptStorageRisk: () => {
    setState({ storageRiskAccepted: true });
    void set(STORAGE_RISK_KEY, true).catch(() => {});
  },
}));

/** Once the node ran with the restored state, later unlocks are ordinary ones. */
useWallet.subscribe((state) => {
  if (state.snapshot?.status === 'running') void del(RESTORE_PENDING_KEY).catch(() => {});
});

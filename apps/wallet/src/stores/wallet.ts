// The wallet's live state as the node worker reports it, and the actions screens call. The worker
// is started by the session store on unlock and ended on lock.
import type { AddressOutput, RelayFetchInput, RelayFetchOutput } from '@lpw/api';
import { create } from 'zustand';
import type { NodeWorker } from '../worker/client.ts';
import type {
  CreatedInvoice,
  ExportedBackup,
  PaidInvoice,
  PreparedSendView,
  ReceiveQuote,
  StreamStart,
  WalletSnapshot,
} from '../worker/protocol.ts';

interface WalletState {
  snapshot: WalletSnapshot | undefined;
  worker: NodeWorker | undefined;
  attach(worker: NodeWorker | undefined): void;
  receiveSnapshot(snapshot: WalletSnapshot): void;
  quoteReceive(amountMsat: bigint | undefined, feeCapMsat: bigint): Promise<ReceiveQuote>;
  createInvoice(
    amountMsat: bigint | undefined,
    description: string,
    quote: ReceiveQuote,
  ): Promise<CreatedInvoice>;
  pay(bolt11: string, amountMsat: bigint | undefined, maxFeeMsat: bigint): Promise<PaidInvoice>;
  estimateFee(bolt11: string): Promise<bigint | undefined>;
  payOffer(offer: string, amountMsat: bigint | undefined, maxFeeMsat: bigint): Promise<PaidInvoice>;
  offer(): Promise<string>;
  relay(request: RelayFetchInput): Promise<RelayFetchOutput>;
  /** Returns the new stream's id. */
  startStream(request: StreamStart): Promise<string>;
  streamControl(id: string, action: 'pause' | 'resume' | 'stop'): Promise<void>;
  onchainAddress(): Promise<string>;
  /** Checks and prices an on-chain send (nothing signed); `amountMsat` undefined: the URI's. */
  prepareOnchainSend(destination: string, amountMsat: bigint | 'all' | undefined): Promise<PreparedSendView>;
  /** Signs and broadcasts a prepared send; returns its txid. */
  sendOnchain(id: string): Promise<string>;
  closeChannel(channelId: string, force: boolean): Promise<void>;
  /** The newest backup the LSP acknowledged (the device's copy), to save as a file. */
  exportBackup(): Promise<ExportedBackup>;
  retry(): void;
  /** Claim or change the wallet's Lightning Address name at its LSP. */
  claimAddress(name: string): Promise<AddressOutput>;
  releaseAddress(): Promise<void>;
  /** The most a channel opened for a Lightning Address payment may cost (nobody is there to agree). */
  setAddressFeeCap(feeCapMsat: bigint): Promise<void>;
}

function need(worker: NodeWorker | undefined): NodeWorker {
  if (!worker) throw new Error('The wallet is locked');
  return worker;
}

export const useWallet = create<WalletState>((set, get) => ({
  snapshot: undefined,
  worker: undefined,
  attach: (worker) => set({ worker, ...(worker ? {} : { snapshot: undefined }) }),
  receiveSnapshot: (snapshot) => set({ snapshot }),
  quoteReceive: (amountMsat, feeCapMsat) =>
    need(get().worker).call({ type: 'quoteReceive', amountMsat, feeCapMsat }),
  createInvoice: (amountMsat, description, quote) =>
    need(get().worker).call({ type: 'createInvoice', amountMsat, description, quote }),
  pay: (bolt11, amountMsat, maxFeeMsat) =>
    need(get().worker).call({ type: 'pay', bolt11, amountMsat, maxFeeMsat }),
  estimateFee: (bolt11) => need(get().worker).call({ type: 'estimateFee', bolt11 }),
  payOffer: (offer, amountMsat, maxFeeMsat) =>
    need(get().worker).call({ type: 'payOffer', offer, amountMsat, maxFeeMsat }),
  offer: () => need(get().worker).call({ type: 'offer' }),
  relay: (request) => need(get().worker).call({ type: 'relay', request }),
  startStream: (request) => need(get().worker).call({ type: 'startStream', request }),
  streamControl: (id, action) => need(get().worker).call({ type: 'streamControl', id, action }),
  onchainAddress: () => need(get().worker).call({ type: 'onchainAddress' }),
  prepareOnchainSend: (destination, amountMsat) =>
    need(get().worker).call({ type: 'prepareOnchainSend', destination, amountMsat }),
  sendOnchain: (id) => need(get().worker).call({ type: 'sendOnchain', id }),
  closeChannel: (channelId, force) => need(get().worker).call({ type: 'closeChannel', channelId, force }),
  exportBackup: () => need(get().worker).call({ type: 'exportBackup' }),
  claimAddress: (name) => need(get().worker).call({ type: 'claimAddress', name }),
  releaseAddress: () => need(get().worker).call({ type: 'releaseAddress' }),
  setAddressFeeCap: async (feeCapMsat) => {
    await get().worker?.call({ type: 'setAddressFeeCap', feeCapMsat });
  },
  retry: () =>
    void get()
      .worker?.call({ type: 'retry' })
      .catch(() => {}),
}));

// On-chain wallet (BIP 84) and the sweeper that moves closed-channel outputs into it.
export { isWalletError, WalletError, type WalletErrorCode } from './errors.ts';
export {
  addressNetwork,
  type BuiltTx,
  bip84AccountPath,
  dustLimit,
  OnchainWallet,
  type OnchainWalletOptions,
  type TxPlan,
  type Utxo,
  type WalletBalance,
  type WalletTx,
  type WalletTxKind,
} from './onchain.ts';
export { Sweeper, type SweeperOptions, type SweptOutput } from './sweeper.ts';

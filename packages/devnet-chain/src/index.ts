// @lpw/devnet-chain: a deterministic regtest chain (real headers, txids, scripts verified by bitcore)
// served over Esplora REST and bitcoind JSON-RPC, with a faucet, its CLI and the tests' waitUntil.
// No workspace dependencies, so every package's tests can use it. Development and tests only.
export { type Block, decodeHeader, encodeHeader, merkleRoot, serializeBlock } from './block.ts';
export {
  type BlockEvent,
  type BlockListener,
  Chain,
  type ChainOptions,
  type ChainTx,
  type Spend,
  type TxLocation,
} from './chain.ts';
export { runDevnetCli, type StartPeers } from './cli.ts';
export { type Devnet, type DevnetOptions, startDevnet } from './devnet.ts';
export { DevnetError, RejectError, RPC_CODE } from './errors.ts';
export { Faucet, faucetKey } from './faucet.ts';
export { type FeeShape, FeeWeather, type FeeWeatherOptions, FLAT, MARKET } from './fee-weather.ts';
export { type Lie, type LyingEsplora, startLyingEsplora } from './lying-esplora.ts';
export type { Coin } from './mempool.ts';
export { fundingBroadcast, waitUntil } from './testkit.ts';
export { addressScript, decodeTx, REGTEST, scriptAddress, type Tx } from './tx.ts';

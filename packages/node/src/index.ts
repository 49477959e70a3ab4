// @lpw/node: one runtime-neutral Lightning node on LDK. Node-only adapters live in subpaths:
// `@lpw/node/sqlite`, `@lpw/node/tcp`, `@lpw/node/node-wasm`.

export { createNode, createWalletNode } from './builder.ts';
export {
  type BitcoindOptions,
  type BitcoinNetwork,
  bitcoindSource,
  CHAIN_CHECK_CODES,
  ChainError,
  type ChainErrorCode,
  type ChainSource,
  CheckedChainSource,
  type CheckedSourceOptions,
  checkedSource,
  esploraSource,
  type FeeTargetName,
  isChainCheckFailure,
  isChainError,
  type SyncReport,
} from './chain/index.ts';
export { buildUserConfig, type NodeRole, WALLET_TO_SELF_DELAY } from './config.ts';
export { CUSTOM_PAYLOAD_MAX, CUSTOM_TYPE_MIN, type CustomMessages } from './custom-messages.ts';
export { isNodeError, NodeError, type NodeErrorCode } from './errors.ts';
export type { EventOf, Listener, NodeEvent, NodeEventKind } from './events.ts';
export {
  type FeeWeatherReport,
  feesHighSentence,
  HIGH_FEERATE_SAT_PER_KW,
  htlcDustThresholdMsat,
} from './fee-policy.ts';
export type { ForwardingFees } from './forwarding-fees.ts';
export { keysManagerSeed, type NodeIdentity, nodeIdentity } from './identity.ts';
export {
  assertJitDescription,
  createJitInvoice,
  JIT_CLTV_MARGIN,
  type JitInvoiceParams,
} from './invoice/jit.ts';
export { initLdkFromBinary, initLdkFromModule, initLdkFromUrl, isLdkReady } from './ldk/init.ts';
export { WASM_MEMORY_WARN_FRACTION, type WasmMemoryUsage, wasmMemoryUsage } from './ldk/memory.ts';
export type { LogEntry, LogLevel, LogSink } from './ldk/traits.ts';
export {
  type Balances,
  type ChainOption,
  type ChainWatch,
  type ChannelSummary,
  type FundingChecks,
  type GossipTraffic,
  type GraphSummary,
  LightningNode,
  type Network,
  type NodeOptions,
  type PeerSummary,
} from './node.ts';
export type { InboundChannelDecision, InboundChannelRequest } from './node-events.ts';
export { Bolt11Payment, type Bolt11SendOptions } from './payment/bolt11.ts';
export { Bolt12Payment, type Bolt12SendOptions, type OfferSummary } from './payment/bolt12.ts';
export {
  type ClaimableOutput,
  type ClosingChannel,
  hoursOf,
  MINUTES_PER_BLOCK,
  type OnchainBalance,
  OnchainPayment,
  type PendingSweep,
  type PreparedOnchainSend,
  type PrepareSendRequest,
} from './payment/onchain.ts';
export {
  OutboundPayments,
  type RecentPaymentState,
  type SendOptions,
  type SentPayment,
} from './payment/outbound.ts';
export {
  defaultMaxFeeMsat,
  nodeIdBytes,
  type PathHints,
  type PathHop,
  pathHints,
  type RouteHintHop,
} from './payment/route.ts';
export {
  KEYSEND_CLTV_DELTA,
  SpontaneousPayment,
  type SpontaneousSendOptions,
} from './payment/spontaneous.ts';
export {
  type PaymentDirection,
  type PaymentKind,
  type PaymentRecord,
  type PaymentStatus,
  paymentRecordsOf,
} from './payments.ts';
// where a node's store keeps its network graph: a tool can start a node on a graph it made (devnet)
export { GRAPH_KEY } from './persist/keys.ts';
export { MemoryStore, type MemoryStoreOptions } from './persist/memory.ts';
export type { Store, StoreWrite } from './persist/store.ts';
export type { RecoveryChannel, RecoveryStage } from './recovery.ts';
export type { Forwarding, FoundPath, RouteRequest } from './routing.ts';
export { defaultScheduler, type Scheduler } from './scheduler.ts';
export { type PayTrace, payTrace, startMark } from './start-marks.ts';
export type { ByteSink, Connector, PeerConnection, PeerHost } from './transport/connection.ts';
export { inMemory } from './transport/memory.ts';
export {
  acceptWebSocket,
  type SideFrames,
  type WebSocketConstructor,
  type WebSocketLike,
  webSocket,
} from './transport/websocket.ts';
export {
  isWalletError,
  OnchainWallet,
  type SweptOutput,
  type WalletBalance,
  WalletError,
  type WalletErrorCode,
} from './wallet/index.ts';

// @lpw/payment-request: parse what a QR code or a paste may hold into a typed request or a typed error.

export {
  type AddressType,
  decodeAddress,
  FALLBACK_P2PKH,
  FALLBACK_P2SH,
  type Network,
  type OnchainAddress,
} from './address.ts';
export {
  assertPayable,
  type Bolt11Fields,
  type Bolt11Invoice,
  type Bolt11Signer,
  type Bolt11TaggedField,
  DEFAULT_EXPIRY_SECONDS,
  DEFAULT_MIN_FINAL_CLTV_EXPIRY_DELTA,
  decodeBolt11,
  encodeBolt11,
  encodeBolt11TaggedFields,
  type FallbackAddress,
  type FallbackProgram,
  isExpired,
  MAX_DESCRIPTION_BYTES,
  privateKeySigner,
  type RouteHint,
  type RouteHintHop,
  verifyDescriptionHash,
} from './bolt11.ts';
export {
  assertOfferPayable,
  type BlindedHop,
  type BlindedPath,
  type BlindedPathIntroduction,
  type Bolt12Offer,
  decodeOffer,
  type TlvRecord,
} from './bolt12.ts';
export { PaymentRequestError, type PaymentRequestErrorCode } from './errors.ts';
export {
  allowsPlainHttp,
  checkLnurlUrl,
  decodeLnurl,
  decodeLud17,
  type LightningAddress,
  parseLightningAddress,
} from './lnurl.ts';
export {
  type FetchInvoiceOptions,
  fetchInvoice,
  type LnurlFetch,
  type LnurlRequestOptions,
  type PayRequest,
  resolvePayRequest,
} from './lnurl-pay.ts';
export {
  type Bip21Notes,
  type OnchainFallback,
  type ParseOptions,
  type PaymentRequest,
  parseBtcAmount,
  parsePaymentRequest,
} from './parse.ts';

// LSPS0 (bLIP 50) framing: one JSON-RPC 2.0 object per BOLT 8 custom message of type 37913, both
// ways. What counts as a request, a response, a "bad message format", and the error codes. Shared by
// the LSP's server and the wallet's client; browser-safe (no Node builtins).

/** bLIP 50: every LSPS message travels as BOLT 8 message type 37913 (odd: "it's OK to be odd"). */
export const LSPS0_MESSAGE_TYPE = 37913;
/** BOLT 8 carries at most 65535 bytes, the 2-byte type included: the largest payload. */
export const LSPS0_MAX_PAYLOAD_BYTES = 65533;
/** bLIP 50: the LSP MAY set feature bit 729 (`option_supports_lsps`) in init and node_announcement. */
export const LSPS_FEATURE_BIT = 729;

/** JSON-RPC 2.0 error codes, and the LSPS-specific ones this LSP answers with. */
export const LSPS_ERROR = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  /**
   * JSON-RPC's implementation-defined server range (-32000..-32099), which bLIP 50 lets LSPs use and
   * clients treat as a temporary failure: too many requests from this peer (data.retry_after_sec).
   */
  RATE_LIMITED: -32000,
  /** bLIP 50 LSPS0.client_rejected_error. */
  CLIENT_REJECTED: 1,
  /** bLIP 51 lsps1.create_order: the order does not fit `lsps1.get_info`'s options. */
  LSPS1_OPTION_MISMATCH: 100,
  /** bLIP 51 lsps1.get_order: no such order. */
  LSPS1_NOT_FOUND: 101,
  /** bLIP 52: 200 unrecognized_or_stale_token, 201 invalid_opening_fee_params, 202/203 payment size. */
  LSPS2_UNRECOGNIZED_OR_STALE_TOKEN: 200,
  LSPS2_INVALID_OPENING_FEE_PARAMS: 201,
  LSPS2_PAYMENT_SIZE_TOO_SMALL: 202,
  LSPS2_PAYMENT_SIZE_TOO_LARGE: 203,
} as const;

export interface JsonRpcError {
  code: number;
  message: string;
  data?: Record<string, unknown>;
}

export type Params = Record<string, unknown>;

/** What the LSP read from one message. */
export type InboundRequest =
  | { kind: 'request'; id: string; method: string; params: Params }
  /** No `id`: JSON-RPC says a notification gets no answer, even when it is wrong. */
  | { kind: 'notification'; method: unknown }
  /** Answer with this error; `id` is null when the request's id could not be read. */
  | { kind: 'invalid'; id: string | null; error: JsonRpcError };

const decoder = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

/**
 * bLIP 50's "bad message format" checks: valid UTF-8, no 0 byte, exactly one complete JSON object
 * (whitespace around it allowed). Returns the object, or undefined when a check fails. A request
 * cut across two messages fails here twice: the spec has no reassembly, one message is one object.
 */
export function parseLspsObject(payload: Uint8Array): Record<string, unknown> | undefined {
  if (payload.length > LSPS0_MAX_PAYLOAD_BYTES || payload.includes(0)) return undefined;
  let value: unknown;
  try {
    // JSON.parse rejects trailing content (`{} {}`), so "a single complete object" is its check
    value = JSON.parse(decoder.decode(payload));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  return value as Record<string, unknown>;
}

/** The LSP's reading of one message: a request it answers, a notification it ignores, or an error. */
export function readRequest(payload: Uint8Array): InboundRequest {
  const message = parseLspsObject(payload);
  if (!message) return invalid(null, LSPS_ERROR.PARSE_ERROR, 'Parse error');
  const { jsonrpc, id, method, params } = message;
  if (!('id' in message)) return { kind: 'notification', method };
  // bLIP 50: the id is a (high-entropy) string; anything else cannot be echoed back reliably
  const echoId = typeof id === 'string' && id.length <= 256 ? id : null;
  if (jsonrpc !== '2.0' || echoId === null || typeof method !== 'string')
    return invalid(echoId, LSPS_ERROR.INVALID_REQUEST, 'Invalid Request');
  if (params !== undefined && (typeof params !== 'object' || params === null || Array.isArray(params)))
    // bLIP 50: by-name parameters only
    return invalid(echoId, LSPS_ERROR.INVALID_PARAMS, 'Invalid params: by-name parameters only', {
      unrecognized: [],
    });
  return { kind: 'request', id: echoId, method, params: (params ?? {}) as Params };
}

function invalid(
  id: string | null,
  code: number,
  message: string,
  data?: Record<string, unknown>,
): InboundRequest {
  return { kind: 'invalid', id, error: { code, message, ...(data ? { data } : {}) } };
}

export function encodeResult(id: string, result: unknown): Uint8Array {
  return encoder.encode(JSON.stringify({ jsonrpc: '2.0', id, result }));
}

export function encodeError(id: string | null, error: JsonRpcError): Uint8Array {
  return encoder.encode(JSON.stringify({ jsonrpc: '2.0', id, error }));
}

export function encodeRequest(id: string, method: string, params: Params): Uint8Array {
  return encoder.encode(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
}

/** What the client read from one message. */
export type InboundResponse =
  | { kind: 'result'; id: string; result: Record<string, unknown> }
  | { kind: 'error'; id: string | null; error: JsonRpcError }
  | { kind: 'notification'; method: string; params: Params }
  /** A bad message format (bLIP 50: ignore it, log it, stop sending on this connection). */
  | { kind: 'bad' };

export function readResponse(payload: Uint8Array): InboundResponse {
  const message = parseLspsObject(payload);
  if (message === undefined) return { kind: 'bad' };
  if (message.jsonrpc !== '2.0') return { kind: 'bad' };
  const { id, result, error, method, params } = message;
  if (!('id' in message)) {
    if (typeof method !== 'string' || typeof params !== 'object' || params === null) return { kind: 'bad' };
    return { kind: 'notification', method, params: params as Params };
  }
  if (id !== null && typeof id !== 'string') return { kind: 'bad' };
  if (error !== undefined) {
    const e = error as Partial<JsonRpcError> | null;
    if (typeof e !== 'object' || e === null || typeof e.code !== 'number' || typeof e.message !== 'string')
      return { kind: 'bad' };
    const data = typeof e.data === 'object' && e.data !== null ? e.data : undefined;
    return { kind: 'error', id, error: { code: e.code, message: e.message, ...(data ? { data } : {}) } };
  }
  // bLIP 50: every result is an object
  if (typeof id !== 'string' || typeof result !== 'object' || result === null || Array.isArray(result))
    return { kind: 'bad' };
  return { kind: 'result', id, result: result as Record<string, unknown> };
}

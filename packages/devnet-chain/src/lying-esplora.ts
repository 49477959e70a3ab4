// A lying chain source for tests: a loopback HTTP proxy in front of an Esplora that alters one kind
// of answer at a time, the way an LSP serving the wallet's chain view could: it hides a confirmed
// transaction, serves a tip header without proof of work, forges a merkle proof, or holds the tip
// back. Honest until told otherwise. Development and tests only.
import { hex } from '@scure/base';
import { decodeHeader, encodeHeader, hashMeetsTarget } from './block.ts';
import { type Listening, listen, send } from './http.ts';
import { reverse, sha256d, toHex } from './tx.ts';

export type Lie =
  | { kind: 'honest' }
  /** These transactions do not exist: 404 for them, nothing spends what they spend, no history lists them. */
  | { kind: 'hide-tx'; txids: string[] }
  /** The tip is a header with the real fields but a nonce that misses the target. */
  | { kind: 'bad-pow' }
  /** Merkle proofs of these transactions have one sibling hash altered. */
  | { kind: 'forge-merkle'; txids: string[] }
  /** The chain ends at this height: later blocks and the confirmations in them are not shown. */
  | { kind: 'hold-tip'; height: number };

export interface LyingEsplora {
  url: string;
  /** What the proxy alters from now on. */
  lie(lie: Lie): void;
  /** Requests answered (tests read what a client asked). */
  readonly requests: string[];
  close(): Promise<void>;
}

interface ForgedTip {
  realHash: string;
  hash: string;
  header: Uint8Array;
  height: number;
}

/** @example const liar = await startLyingEsplora(devnet.esploraUrl); liar.lie({ kind: 'bad-pow' }); */
export async function startLyingEsplora(upstream: string, host = '127.0.0.1'): Promise<LyingEsplora> {
  let lie: Lie = { kind: 'honest' };
  const requests: string[] = [];

  const get = async (path: string): Promise<Upstream> => {
    const res = await fetch(`${upstream}${path}`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    const type = res.headers.get('content-type') ?? 'text/plain';
    return { status: res.status, bytes, type, text: new TextDecoder().decode(bytes) };
  };
  const getJson = async (path: string): Promise<unknown> => JSON.parse((await get(path)).text);

  /** The real tip with its nonce changed until the hash misses the target (about every other nonce). */
  const forgeTip = async (): Promise<ForgedTip> => {
    const realHash = (await get('/blocks/tip/hash')).text.trim();
    const height = Number((await get('/blocks/tip/height')).text);
    const fields = decodeHeader(hex.decode((await get(`/block/${realHash}/header`)).text.trim()));
    for (let nonce = fields.nonce + 1; ; nonce++) {
      const header = encodeHeader({ ...fields, nonce: nonce >>> 0 });
      const hash = toHex(reverse(sha256d(header)));
      if (!hashMeetsTarget(hash, fields.bits)) return { realHash, hash, header, height };
    }
  };

  const server: Listening = await listen(
    async (req, body, res) => {
      const url = new URL(req.url ?? '/', 'http://lying');
      const path = url.pathname.replace(/\/+$/, '');
      requests.push(`${req.method} ${path}`);
      if (req.method !== 'GET') {
        const up = await fetch(`${upstream}${path}`, {
          method: req.method ?? 'POST',
          body: new Uint8Array(body),
          headers: { 'content-type': req.headers['content-type'] ?? 'text/plain' },
        });
        send(res, up.status, await up.text());
        return;
      }
      const answer = await answerGet(lie, path, get, getJson, forgeTip);
      if ('bytes' in answer) send(res, answer.status, answer.bytes, answer.type);
      else send(res, answer.status, answer.body);
    },
    host,
    0,
    { cors: true },
  );
  return {
    url: server.url,
    lie: (next) => {
      lie = next;
    },
    requests,
    close: () => server.close(),
  };
}

interface Upstream {
  status: number;
  bytes: Uint8Array;
  type: string;
  text: string;
}
/** An altered answer, or the upstream one passed through byte for byte. */
type Answer = { status: number; body: string | object } | Upstream;
type Get = (path: string) => Promise<Upstream>;

async function answerGet(
  lie: Lie,
  path: string,
  get: Get,
  getJson: (path: string) => Promise<unknown>,
  forgeTip: () => Promise<ForgedTip>,
): Promise<Answer> {
  const parts = path.split('/').slice(1);
  switch (lie.kind) {
    case 'hide-tx': {
      const hidden = new Set(lie.txids);
      if (parts[0] === 'tx' && hidden.has(parts[1] ?? ''))
        return { status: 404, body: 'Transaction not found' };
      const real = await get(path);
      return isJson(real) ? { status: 200, body: hideTxs(JSON.parse(real.text), hidden) as object } : real;
    }
    case 'forge-merkle': {
      const real = await get(path);
      if (
        parts[0] === 'tx' &&
        parts[2] === 'merkle-proof' &&
        lie.txids.includes(parts[1] ?? '') &&
        real.status === 200
      ) {
        const proof = JSON.parse(real.text) as { merkle: string[] };
        proof.merkle[0] = flipLastByte(proof.merkle[0] ?? '00'.repeat(32));
        return { status: 200, body: proof };
      }
      return real;
    }
    case 'hold-tip':
      return holdTip(lie.height, path, parts, get, getJson);
    case 'bad-pow': {
      const forged = await forgeTip();
      if (path === '/blocks/tip/hash') return { status: 200, body: forged.hash };
      if (parts[0] === 'block-height' && Number(parts[1]) === forged.height)
        return { status: 200, body: forged.hash };
      if (parts[0] === 'block' && parts[1] === forged.hash) {
        if (parts[2] === 'header') return { status: 200, body: toHex(forged.header) };
        if (parts[2] === 'status')
          return { status: 200, body: { in_best_chain: true, height: forged.height, next_best: null } };
        parts[1] = forged.realHash;
        return get(`/${parts.join('/')}`);
      }
      if (parts[0] === 'blocks' && /^\d+$/.test(parts[1] ?? '') && parts.length === 2) {
        const blocks = (await getJson(path)) as Array<Record<string, unknown>>;
        for (const b of blocks)
          if (b.id === forged.realHash) {
            b.id = forged.hash;
            b.nonce = decodeHeader(forged.header).nonce;
          }
        return { status: 200, body: blocks };
      }
      return get(path);
    }
    default:
      return get(path);
  }
}

const isJson = (answer: Upstream): boolean =>
  answer.status === 200 && answer.type.startsWith('application/json');

/** Drop hidden txs from lists and undo the spends they make. */
function hideTxs(value: unknown, hidden: Set<string>): unknown {
  if (Array.isArray(value))
    return value
      .filter(
        (v) => !(v && typeof v === 'object' && hidden.has((v as { txid?: string }).txid ?? '') && 'vin' in v),
      )
      .map((v) => hideTxs(v, hidden));
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (o.spent === true && hidden.has(String(o.txid))) return { spent: false };
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, hideTxs(v, hidden)]));
  }
  return value;
}

/** Statuses of blocks above `height` become unconfirmed, wherever they appear in a JSON answer. */
function unconfirmAbove(value: unknown, height: number): unknown {
  if (Array.isArray(value)) return value.map((v) => unconfirmAbove(v, height));
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (o.confirmed === true && typeof o.block_height === 'number' && o.block_height > height)
      return { confirmed: false };
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, unconfirmAbove(v, height)]));
  }
  return value;
}

async function holdTip(
  height: number,
  path: string,
  parts: string[],
  get: Get,
  getJson: (path: string) => Promise<unknown>,
): Promise<Answer> {
  if (path === '/blocks/tip/height') return { status: 200, body: String(height) };
  if (path === '/blocks/tip/hash') return get(`/block-height/${height}`);
  if (parts[0] === 'block-height' && Number(parts[1]) > height)
    return { status: 404, body: 'Block not found' };
  if (parts[0] === 'blocks' && parts.length <= 2) {
    const start = parts[1] === undefined ? height : Math.min(Number(parts[1]), height);
    return { status: 200, body: (await getJson(`/blocks/${start}`)) as object };
  }
  if (parts[0] === 'block' && parts[2] === 'status') {
    const status = (await getJson(path)) as { height?: number };
    if ((status.height ?? 0) > height) return { status: 200, body: { in_best_chain: false } };
    return { status: 200, body: status };
  }
  if (parts[0] === 'tx' && parts[2] === 'merkle-proof') {
    const proof = await get(path);
    if (proof.status === 200 && (JSON.parse(proof.text) as { block_height: number }).block_height > height)
      return { status: 404, body: 'Transaction not found' };
    return proof;
  }
  const real = await get(path);
  return isJson(real) ? { status: 200, body: unconfirmAbove(JSON.parse(real.text), height) as object } : real;
}

function flipLastByte(hashHex: string): string {
  const bytes = hex.decode(hashHex);
  bytes[bytes.length - 1]! ^= 0x01;
  return hex.encode(bytes);
}

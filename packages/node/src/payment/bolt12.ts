// The BOLT 12 payment handle (ldk-node's payment/bolt12.rs shape): the node's reusable offer, and
// paying someone's. LDK does the protocol — the invoice request and the invoice travel as onion
// messages (onion.ts), and the ChannelManager pays the invoice it gets back, along the blinded
// paths in it. Offers are read by our own decoder (@lpw/payment-request) for what a person sees,
// and by LDK's for the payment itself.
import { assertOfferPayable, type Bolt12Offer, decodeOffer, type Network } from '@lpw/payment-request';
import * as ldk from 'lightningdevkit';
import { NodeError } from '../errors.ts';
import { type Own, withLdk } from '../ldk/free.ts';
import { bool, describeLdkError, errorOf, fromHex, toHex, unwrap } from '../ldk/values.ts';
import { type OutboundContext, OutboundPayments, PAYMENT_RETRIES, type SendOptions } from './outbound.ts';
import { assertBigint, nodeIdBytes, type PathHints } from './route.ts';

/** Longest offer we read: an offer is one QR code (7,089 characters at most). */
export const MAX_OFFER_CHARS = 7089;
/** The most a payer's note may say (BOLT 12 sets no limit; this bounds the onion message). */
const MAX_PAYER_NOTE_BYTES = 512;
/** The HTLC limit of a learnt channel, whose capacity we do not know: 10 BTC, above any wallet's. */
const MAX_HTLC_MSAT = 1_000_000_000_000n;

/** What a person is shown about an offer before paying it. */
export interface OfferSummary {
  /** The offer as one lowercase string. */
  offer: string;
  description: string | undefined;
  /** Undefined: the payer chooses the amount. */
  amountMsat: bigint | undefined;
  issuer: string | undefined;
  /** Seconds since 1970 after which the offer is void; undefined: it does not expire. */
  expiresAt: number | undefined;
  /** Where the offer's blinded paths enter the network (node ids): what a payer routes to. */
  introductionNodeIds: string[];
}

export interface Bolt12SendOptions extends Omit<SendOptions, 'routeHints'> {
  /** A note to the payee, carried in the invoice request. */
  payerNote?: string;
  /**
   * Paths someone else found (the LSP's routes.find) from our channel's peer to the nodes the
   * payee's invoice may route through (the offer's introduction nodes): a node without a gossip
   * graph learns them as channels, so LDK can reach the invoice's blinded paths.
   */
  knownPaths?: PathHints[];
}

export class Bolt12Payment extends OutboundPayments {
  constructor(
    ctx: OutboundContext,
    private readonly network: Network,
    private readonly graph: ldk.NetworkGraph,
    private readonly chainHash: Uint8Array,
  ) {
    super(ctx);
  }

  /**
   * A reusable offer to pay this node (`lno1…`): any amount, any number of payers, no expiry, with
   * a blinded path whose introduction node is a connected peer that forwards onion messages (for
   * a wallet: its LSP); each payer pays as long as that peer carries our messages. It holds no
   * description and no amount: the bindings' builder setters (description, amount) act
   * on a copy and are lost (docs/architecture.md). Without such a peer: PEER_NOT_CONNECTED.
   */
  offer(): string {
    this.ctx.assertRunning();
    return withLdk((own) => {
      const built = own(
        this.ctx.channelManager.create_offer_builder(own(ldk.Option_u64Z.constructor_none())),
      );
      if (!bool(built.is_ok())) {
        const error = errorOf(built);
        if (error === ldk.Bolt12SemanticError.LDKBolt12SemanticError_MissingPaths)
          throw new NodeError(
            'PEER_NOT_CONNECTED',
            'an offer needs a connected peer that forwards onion messages (the LSP)',
          );
        throw new NodeError('OFFER_CREATION_FAILED', semanticErrorName(error));
      }
      const builder = (built as ldk.Result_OfferWithDerivedMetadataBuilderBolt12SemanticErrorZ_OK).res;
      const offer = unwrap<ldk.Offer>(own(builder.build()), 'OFFER_CREATION_FAILED', 'offer');
      return own(offer).to_str();
    });
  }

  /**
   * The offer as a person sees it, or a NodeError: INVALID_OFFER naming the rule it breaks (or
   * the other network it is for), OFFER_EXPIRED.
   */
  decodeOffer(offer: string): OfferSummary {
    const decoded = this.readOffer(offer);
    return {
      offer: decoded.offer,
      description: decoded.description,
      amountMsat: decoded.amountMsat,
      issuer: decoded.issuer,
      expiresAt: decoded.absoluteExpiry,
      introductionNodeIds: introductionNodeIds(decoded),
    };
  }

  /**
   * Asks the offer's node for an invoice (an onion message through our peer) and pays it when it
   * comes; resolves with the payment id once its record is durable (`outcome(id)` waits for the
   * result: a payee that never answers fails it with InvoiceRequestExpired). `amountMsat` is
   * required for an offer without an amount and may not be below an offer's own. Bad input, an
   * offer we cannot pay, too little in the channels or LDK's refusal throw a NodeError and send
   * nothing.
   */
  async payOffer(offer: string, amountMsat?: bigint, options: Bolt12SendOptions = {}): Promise<string> {
    this.ctx.assertRunning();
    const decoded = this.readOffer(offer);
    if (decoded.currency !== undefined || (decoded.amount !== undefined && decoded.amountMsat === undefined))
      throw new NodeError('INVALID_OFFER', `offer asks for an amount in ${decoded.currency ?? 'a currency'}`);
    if (decoded.quantityMax !== undefined)
      throw new NodeError('INVALID_OFFER', 'offer asks for a quantity, which this wallet does not choose');
    if (amountMsat !== undefined) assertBigint(amountMsat, 'amountMsat', 1n);
    if (decoded.amountMsat !== undefined && amountMsat !== undefined && amountMsat < decoded.amountMsat)
      throw new NodeError(
        'INVALID_INPUT',
        `offer is for ${decoded.amountMsat} msat, asked to pay ${amountMsat}`,
      );
    const payMsat = amountMsat ?? decoded.amountMsat;
    if (payMsat === undefined) throw new NodeError('INVALID_INPUT', 'offer has no amount: pass amountMsat');
    const note = options.payerNote;
    if (
      note !== undefined &&
      (typeof note !== 'string' || new TextEncoder().encode(note).length > MAX_PAYER_NOTE_BYTES)
    )
      throw new NodeError(
        'INVALID_INPUT',
        `"payerNote" expected a string of at most ${MAX_PAYER_NOTE_BYTES} bytes`,
      );
    const id = toHex(
      options.paymentId === undefined ? this.ctx.random(32) : this.paymentIdBytes(options.paymentId),
    );
    withLdk((own) => {
      const parsed = own(ldk.Offer.constructor_from_str(decoded.offer));
      const ldkOffer = unwrap<ldk.Offer>(parsed, 'INVALID_OFFER', 'LDK refused the offer');
      const maxFeeMsat = this.checkSend(payMsat, options);
      this.assertNotPaid(id);
      for (const path of options.knownPaths ?? [])
        learnPath(this.graph, this.chainHash, path, this.ctx.now(), own);
      const sent = own(
        this.ctx.channelManager.pay_for_offer(
          ldkOffer,
          own(ldk.Option_u64Z.constructor_none()),
          own(
            amountMsat === undefined
              ? ldk.Option_u64Z.constructor_none()
              : ldk.Option_u64Z.constructor_some(amountMsat),
          ),
          own(
            note === undefined ? ldk.Option_StrZ.constructor_none() : ldk.Option_StrZ.constructor_some(note),
          ),
          fromHex(id),
          own(ldk.Retry.constructor_attempts(PAYMENT_RETRIES)),
          own(ldk.Option_u64Z.constructor_some(maxFeeMsat)),
        ),
      );
      if (!bool(sent.is_ok())) throw payOfferRefusal(errorOf(sent));
    });
    return this.recorded(
      {
        id,
        direction: 'outbound',
        kind: 'bolt12',
        status: 'pending',
        // known once the invoice comes (PaymentSent carries it)
        paymentHash: '',
        amountMsat: payMsat,
        invoice: decoded.offer,
        description: decoded.description,
      },
      options.record,
    );
  }

  /** The decoded offer, payable on our network now, or INVALID_OFFER / OFFER_EXPIRED. */
  private readOffer(offer: string): Bolt12Offer {
    if (typeof offer !== 'string' || offer.trim().length === 0 || offer.trim().length > MAX_OFFER_CHARS)
      throw new NodeError(
        'INVALID_OFFER',
        `expected a BOLT 12 offer of at most ${MAX_OFFER_CHARS} characters`,
      );
    try {
      const decoded = decodeOffer(offer);
      assertOfferPayable(decoded, { network: this.network, nowSec: Math.floor(this.ctx.now() / 1000) });
      return decoded;
    } catch (error) {
      const code = (error as { code?: unknown }).code === 'OFFER_EXPIRED' ? 'OFFER_EXPIRED' : 'INVALID_OFFER';
      throw new NodeError(code, error instanceof Error ? error.message : String(error), { cause: error });
    }
  }
}

function introductionNodeIds(offer: Bolt12Offer): string[] {
  const ids = offer.paths.flatMap((path) =>
    'nodeId' in path.introduction ? [path.introduction.nodeId] : [],
  );
  if (ids.length === 0 && offer.paths.length === 0 && offer.issuerId) ids.push(offer.issuerId);
  return [...new Set(ids)];
}

function semanticErrorName(error: unknown): string {
  return describeLdkError(error, ldk.Bolt12SemanticError as unknown as Record<number, string>);
}

function payOfferRefusal(error: unknown): NodeError {
  switch (error) {
    case ldk.Bolt12SemanticError.LDKBolt12SemanticError_DuplicatePaymentId:
      return new NodeError('DUPLICATE_PAYMENT', 'this payment id was already used');
    case ldk.Bolt12SemanticError.LDKBolt12SemanticError_MissingPaths:
      return new NodeError('PEER_NOT_CONNECTED', 'no connected peer forwards onion messages for the reply');
    default:
      return new NodeError('INVALID_OFFER', semanticErrorName(error));
  }
}

/**
 * Adds a found path to our graph as channels (partial announcements and channel_updates of our
 * own making, never gossiped: a node's graph is private to it). Each hop is the channel leaving
 * `hints[k].srcNodeId` towards the next hop's node (the payee for the last), at the fees and CLTV
 * delta the path was found with. A channel the graph already holds from gossip is left as it is.
 */
function learnPath(
  graph: ldk.NetworkGraph,
  chainHash: Uint8Array,
  path: PathHints,
  nowMs: number,
  own: Own,
): void {
  const timestamp = Math.floor(nowMs / 1000);
  path.hints.forEach((hop, k) => {
    const from = nodeIdBytes(hop.srcNodeId, 'knownPaths.srcNodeId');
    const to = nodeIdBytes(path.hints[k + 1]?.srcNodeId ?? path.payee, 'knownPaths.payee');
    const [one, two] = compareBytes(from, to) < 0 ? [from, to] : [to, from];
    // refused when gossip already brought the channel: then its own updates route
    const added = own(
      graph.add_channel_from_partial_announcement(
        hop.shortChannelId,
        BigInt(timestamp),
        own(ldk.ChannelFeatures.constructor_empty()),
        one,
        two,
      ),
    );
    if (!bool(added.is_ok())) return;
    // LDK 0.1 routes over a channel only when it holds both directions' updates: the other
    // direction gets the same terms (never used: the path goes one way)
    for (const direction of [0, 1])
      own(
        graph.update_channel_unsigned(
          own(
            ldk.UnsignedChannelUpdate.constructor_new(
              chainHash,
              hop.shortChannelId,
              timestamp,
              1, // message flags: the HTLC limit is present (must be one)
              direction,
              hop.cltvExpiryDelta,
              0n,
              MAX_HTLC_MSAT,
              hop.feeBaseMsat,
              hop.feeProportionalMillionths,
              new Uint8Array(0),
            ),
          ),
        ),
      );
  });
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

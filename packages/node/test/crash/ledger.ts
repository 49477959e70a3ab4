// The money checks of the crash test, on two idle nodes' views: each returns what is wrong, in
// words and msat, so a failure says which payment and which side. Pure: no LDK, no I/O.
import type { PaymentRecord } from '../../src/payments.ts';
import type { ChannelView, NodeView } from './protocol.ts';

export interface Side {
  name: string;
  view: NodeView;
  /** Our balance when the channel opened: capacity − push for the funder, the push for the other side. */
  openingBalanceMsat: bigint;
}

const paymentsOf = (view: NodeView): PaymentRecord[] => {
  if (!view.payments) throw new Error(`${view.nodeId}: a full view (with payments) is needed`);
  return view.payments;
};

/** One channel each, the same one, open, usable, with no HTLC in it. */
export function checkChannel(a: Side, b: Side): string[] {
  const problems: string[] = [];
  for (const side of [a, b]) {
    if (side.view.channels.length !== 1)
      problems.push(`${side.name} lists ${side.view.channels.length} channels, expected 1`);
    const c = side.view.channels[0];
    if (!c) continue;
    if (!c.isUsable) problems.push(`${side.name}: channel ${c.channelId} not usable`);
    const htlcs = [...c.pendingInbound, ...c.pendingOutbound];
    if (htlcs.length > 0)
      problems.push(
        `${side.name}: ${htlcs.length} HTLCs still in the channel: ${JSON.stringify(htlcs, big)}`,
      );
    if (side.view.pendingOutbound > 0)
      problems.push(`${side.name}: ${side.view.pendingOutbound} outbound payments still pending`);
  }
  const ca = a.view.channels[0];
  const cb = b.view.channels[0];
  if (ca && cb && ca.channelId !== cb.channelId)
    problems.push(`channel ids differ: ${a.name} ${ca.channelId}, ${b.name} ${cb.channelId}`);
  return problems;
}

/**
 * Both sides' balances add up to the capacity: idle, balance = outbound capacity + our reserve
 * (LDK's outbound_capacity_msat is value_to_self minus the reserve the peer makes us keep, and
 * the funder's commitment fee is not taken from it). Each side's inbound is the other's outbound.
 */
export function checkBalancesAddUp(a: Side, b: Side): string[] {
  const ca = a.view.channels[0];
  const cb = b.view.channels[0];
  if (!ca || !cb) return [];
  const problems: string[] = [];
  const total = balanceOf(ca) + balanceOf(cb);
  if (total !== ca.capacityMsat)
    problems.push(
      `balances add up to ${total} msat, capacity is ${ca.capacityMsat} (${a.name} ${balanceOf(ca)}, ${b.name} ${balanceOf(cb)})`,
    );
  if (ca.inboundMsat !== cb.outboundMsat)
    problems.push(`${a.name} inbound ${ca.inboundMsat} ≠ ${b.name} outbound ${cb.outboundMsat}`);
  if (cb.inboundMsat !== ca.outboundMsat)
    problems.push(`${b.name} inbound ${cb.inboundMsat} ≠ ${a.name} outbound ${ca.outboundMsat}`);
  return problems;
}

export const balanceOf = (c: ChannelView): bigint => c.outboundMsat + c.reserveMsat;

/** Balance now = opening balance + Σ received − Σ (sent + fees), from the side's own durable records. */
export function checkOwnLedger(side: Side): string[] {
  const c = side.view.channels[0];
  if (!c) return [];
  let expected = side.openingBalanceMsat;
  for (const p of paymentsOf(side.view)) {
    if (p.status !== 'succeeded') continue;
    if (p.amountMsat === undefined) return [`${side.name}: succeeded payment ${p.id} has no amount`];
    if (p.direction === 'inbound') expected += p.amountMsat;
    else expected -= p.amountMsat + (p.feeMsat ?? 0n);
  }
  const actual = balanceOf(c);
  return actual === expected
    ? []
    : [
        `${side.name}: channel balance ${actual} msat, its payment records say ${expected} (off by ${actual - expected})`,
      ];
}

/**
 * Payer and payee agree on every payment between them, by payment hash: sent ⇔ received with the
 * same amount; a payment failed at the payer was not received; nothing counted twice.
 */
export function checkPaymentsAgree(payer: Side, payee: Side): string[] {
  const problems: string[] = [];
  const sent = new Map<string, PaymentRecord>();
  for (const p of paymentsOf(payer.view)) {
    if (p.direction !== 'outbound') continue;
    if (sent.has(p.paymentHash))
      problems.push(`${payer.name}: two outbound records for hash ${p.paymentHash}`);
    sent.set(p.paymentHash, p);
  }
  const received = new Map<string, PaymentRecord>();
  for (const p of paymentsOf(payee.view)) if (p.direction === 'inbound') received.set(p.paymentHash, p);

  for (const [hash, out] of sent) {
    const inb = received.get(hash);
    const got = inb?.status === 'succeeded';
    if (out.status === 'succeeded') {
      if (!got)
        problems.push(
          `${hash}: ${payer.name} recorded it sent, ${payee.name} has ${inb?.status ?? 'no record'}`,
        );
      else if (inb!.amountMsat !== out.amountMsat)
        problems.push(
          `${hash}: ${payer.name} sent ${out.amountMsat} msat, ${payee.name} received ${inb!.amountMsat}`,
        );
      if ((out.feeMsat ?? 0n) !== 0n)
        problems.push(`${hash}: fee ${out.feeMsat} msat on a direct channel (expected 0)`);
    } else if (got) {
      problems.push(
        `${hash}: ${payee.name} received ${inb!.amountMsat} msat, ${payer.name} recorded it ${out.status}`,
      );
    }
  }
  for (const [hash, inb] of received) {
    if (inb.status === 'succeeded' && !sent.has(hash))
      problems.push(
        `${hash}: ${payee.name} received ${inb.amountMsat} msat, ${payer.name} has no record of paying it`,
      );
  }
  return problems;
}

/** Nothing settled before may change: a record that was succeeded stays so, same amount and fee. */
export function checkSettledKept(name: string, before: PaymentRecord[], now: NodeView): string[] {
  const current = new Map(paymentsOf(now).map((p) => [p.id, p]));
  const problems: string[] = [];
  for (const old of before) {
    if (old.status === 'pending') continue;
    const p = current.get(old.id);
    if (!p) problems.push(`${name}: payment ${old.id} (${old.status}) vanished after the restart`);
    else if (p.status !== old.status || p.amountMsat !== old.amountMsat || p.feeMsat !== old.feeMsat)
      problems.push(
        `${name}: payment ${old.id} was ${old.status} ${old.amountMsat}+${old.feeMsat}, now ${p.status} ${p.amountMsat}+${p.feeMsat}`,
      );
  }
  return problems;
}

/** JSON.stringify replacer for bigints. */
export const big = (_k: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v);

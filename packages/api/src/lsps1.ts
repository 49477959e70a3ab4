// LSPS1 (bLIP 51) channel orders: the client buys a channel of a given size, paid up front.
// Names and states are the spec's; sat amounts travel as decimal strings.
import * as z from 'zod/mini';
import { satInput, satString, u32 } from './amounts.ts';
import { isoDatetime } from './lsps2.ts';
import { checked } from './schema.ts';

export const lsps1Options = z.object({
  min_required_channel_confirmations: u32,
  min_funding_confirms_within_blocks: u32,
  supports_zero_channel_reserve: z.boolean(),
  max_channel_expiry_blocks: u32,
  min_initial_client_balance_sat: satString,
  max_initial_client_balance_sat: satString,
  min_initial_lsp_balance_sat: satString,
  max_initial_lsp_balance_sat: satString,
  min_channel_balance_sat: satString,
  max_channel_balance_sat: satString,
});
export const ordersGetInfoOutput = z.object({ options: lsps1Options });
export type OrdersGetInfoOutput = z.infer<typeof ordersGetInfoOutput>;

export const ordersCreateInput = z.strictObject({
  lsp_balance_sat: satInput,
  client_balance_sat: satInput,
  required_channel_confirmations: checked(u32, z.maximum(144)),
  funding_confirms_within_blocks: checked(u32, z.minimum(1), z.maximum(2016)),
  channel_expiry_blocks: checked(u32, z.minimum(1)),
  token: z.optional(checked(z.string(), z.maxLength(256))),
  refund_onchain_address: z.optional(checked(z.string(), z.minLength(14), z.maxLength(90))),
  announce_channel: z.boolean(),
});
export type OrdersCreateInput = z.output<typeof ordersCreateInput>;

export const orderState = z.enum(['CREATED', 'COMPLETED', 'FAILED']);
export type OrderState = z.infer<typeof orderState>;
export const bolt11PaymentState = z.enum(['EXPECT_PAYMENT', 'HOLD', 'PAID', 'REFUNDED']);
export type Bolt11PaymentState = z.infer<typeof bolt11PaymentState>;

export const orderPayment = z.object({
  bolt11: z.nullable(
    z.object({
      state: bolt11PaymentState,
      expires_at: isoDatetime,
      fee_total_sat: satString,
      order_total_sat: satString,
      invoice: z.string(),
    }),
  ),
  onchain: z.nullable(
    z.object({
      state: bolt11PaymentState,
      expires_at: isoDatetime,
      fee_total_sat: satString,
      order_total_sat: satString,
      address: z.string(),
      min_onchain_payment_confirmations: z.nullable(u32),
      min_fee_for_0conf: u32,
    }),
  ),
});

export const orderChannel = z.object({
  funded_at: isoDatetime,
  funding_outpoint: z.string(),
  expires_at: isoDatetime,
});

export const orderWire = z.object({
  order_id: z.string(),
  lsp_balance_sat: satString,
  client_balance_sat: satString,
  required_channel_confirmations: u32,
  funding_confirms_within_blocks: u32,
  channel_expiry_blocks: u32,
  token: z.string(),
  created_at: isoDatetime,
  announce_channel: z.boolean(),
  order_state: orderState,
  payment: orderPayment,
  channel: z.nullable(orderChannel),
});
export type OrderWire = z.infer<typeof orderWire>;

export const ordersGetInput = z.strictObject({ order_id: checked(z.string(), z.uuid()) });
export const ordersListOutput = z.object({ orders: z.array(orderWire) });

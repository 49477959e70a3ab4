// zod/mini's `schema.check(...)` is a method call, which a bundler must keep even when nothing uses
// the schema; this one is marked free of side effects, so a browser bundle keeps only the schemas it
// parses with (zod's own constructors are marked the same way).
import type * as z from 'zod/mini';

/** `schema.check(...checks)`: the schema with these checks, in this order. */
/* @__NO_SIDE_EFFECTS__ */
export function checked<T extends z.ZodMiniType>(schema: T, ...checks: z.core.$ZodCheck<z.output<T>>[]): T {
  return schema.check(...checks);
}

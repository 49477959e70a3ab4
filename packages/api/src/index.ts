// @lpw/api: the wallet↔LSP contract — zod schemas of every procedure, LSPS1/LSPS2 shapes and
// formulas, node message signatures, and the one error type both sides speak.
export * from './amounts.ts';
export * from './auth.ts';
export * from './backup.ts';
export * from './errors.ts';
export * from './info.ts';
export * from './lnaddr.ts';
export * from './lsps1.ts';
export * from './lsps2.ts';
export * from './rates.ts';
export * from './relay.ts';
export * from './routes.ts';
export * from './signmessage.ts';

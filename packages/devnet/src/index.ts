// @lpw/devnet: the devnet's public Lightning network (router and merchant LDK nodes, `./network`),
// the merchant's shop, paid API and Lightning Address (`./paid-api`), over the regtest chain of
// @lpw/devnet-chain, re-exported here so apps, e2e, bench and the LSP need one import.
export * from '@lpw/devnet-chain';

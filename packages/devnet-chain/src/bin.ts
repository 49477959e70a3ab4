// `devnet` for the chain alone (no Lightning nodes): see cli.ts.
import { runDevnetCli } from './cli.ts';

runDevnetCli(process.argv.slice(2)).catch((e: unknown) => {
  console.error((e as Error).message);
  process.exit(1);
});

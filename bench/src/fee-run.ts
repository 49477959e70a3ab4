// Fee weather: the node test's stack (a wallet behind its LSP, a merchant on the LSP, real LDK on
// the devnet) through every scenario of packages/node/test/fee-stack.ts — spikes ×10 and ×100, a
// climb, crashes back, a wallet source disagreeing ×10 either way, the wallet offline through a
// ×100 spike — with payments both ways. Counts force-closes, failed payments by reason, and msat
// the three ledgers do not account for.
import { FEE_SCENARIOS, startFeeStack } from '../../packages/node/test/fee-stack.ts';

export async function measureFeeWeather(rounds: number) {
  const stack = await startFeeStack('bench-fees');
  const scenarioErrors: Record<string, string> = {};
  const t0 = performance.now();
  try {
    for (let round = 0; round < rounds; round++) {
      for (const scenario of FEE_SCENARIOS) {
        try {
          await scenario.run(stack);
        } catch (error) {
          // a scenario that stalls (a close, a timeout) is reported; the next one still runs
          scenarioErrors[`${round}: ${scenario.name}`] =
            error instanceof Error ? error.message : String(error);
        }
      }
    }
    const mismatch = await stack.ledgerMismatchMsat();
    const abs = (v: bigint) => (v < 0n ? -v : v);
    const failed = stack.outcomes.filter((o) => !o.ok);
    const reasons: Record<string, number> = {};
    for (const o of failed) {
      const key = `${o.code} (${o.direction}, ${o.amountMsat / 1000n} sat)`;
      reasons[key] = (reasons[key] ?? 0) + 1;
    }
    return {
      fee_spike_force_closes: stack.forceCloses().length,
      fee_spike_force_close_reasons: stack.forceCloses(),
      fee_spike_payments: stack.outcomes.length,
      fee_spike_failed_payments: failed.length,
      fee_spike_failed_reasons: reasons,
      fee_spike_msat_mismatch: Number(
        abs(mismatch.wallet) + abs(mismatch.lsp) + abs(mismatch.merchant) + abs(stack.netMovedMsat()),
      ),
      fee_spike_scenarios: FEE_SCENARIOS.map((s) => s.name),
      fee_spike_scenario_errors: scenarioErrors,
      fee_spike_wall_s: Math.round((performance.now() - t0) / 100) / 10,
    };
  } finally {
    await stack.stop();
  }
}

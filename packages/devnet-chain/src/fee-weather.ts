// Fee weather: the fee level the devnet's estimators answer, as a function of block height, so
// tests and the bench can script spikes, climbs, crashes and disagreeing sources block by block.
import { DevnetError } from './errors.ts';

/** Where a scripted level takes effect: from this height (the tip's next block by default) on. */
interface Step {
  fromHeight: number;
  satPerVb: number;
}

/** Fraction of the next-block level a slower target answers (flat: every target alike). */
export type FeeShape = (targetBlocks: number) => number;

export const FLAT: FeeShape = () => 1;

/** Falls with the target like a real market: next block 1, an hour 0.8, a day 0.5, a week 0.25. */
export const MARKET: FeeShape = (t) => (t <= 2 ? 1 : t <= 6 ? 0.8 : t <= 25 ? 0.65 : t <= 144 ? 0.5 : 0.25);

export interface FeeWeatherOptions {
  /** The fair-weather level in sat/vB (what `crash()` returns to). */
  baseSatPerVb: number;
  shape?: FeeShape;
  /** Height of the chain's tip; scripted changes apply from the next block. */
  tipHeight: () => number;
}

/**
 * A scripted fee market. `estimate(target)` is what Esplora's /fee-estimates and bitcoind's
 * estimatesmartfee answer now (before the mempool-minimum clamp both apply).
 * @example
 * devnet.weather.spike(100); // the next block lands in a ×100 market
 * devnet.mine(1);
 * const second = await devnet.startEsplora({ weather: devnet.weather.scaled(10) }); // a source 10× higher
 */
export class FeeWeather {
  private steps: Step[];
  private base: number;
  private readonly shape: FeeShape;
  /** Set on a `scaled()` view: it reads its source's market times a factor. */
  private follows?: { source: FeeWeather; factor: number };

  constructor(private readonly opts: FeeWeatherOptions) {
    this.base = positive(opts.baseSatPerVb, 'baseSatPerVb');
    this.shape = opts.shape ?? FLAT;
    this.steps = [{ fromHeight: 0, satPerVb: this.base }];
  }

  /** The next-block level in sat/vB at `height` (the tip's by default). */
  level(height = this.opts.tipHeight()): number {
    if (this.follows) return this.follows.source.level(height) * this.follows.factor;
    let level = this.steps[0]!.satPerVb;
    for (const step of this.steps) if (step.fromHeight <= height) level = step.satPerVb;
    return level;
  }

  /** What a source answers for `targetBlocks` now, in sat/vB (3 decimals, as Esplora rounds). */
  estimate(targetBlocks: number): number {
    return Math.round(this.level() * this.shape(targetBlocks) * 1000) / 1000;
  }

  /** Set the level now (no block needed) and make it the new fair weather. */
  set(satPerVb: number): void {
    this.assertScriptable();
    this.base = positive(satPerVb, 'satPerVb');
    this.at(this.opts.tipHeight(), satPerVb);
  }

  /** Script the level from `height` on (replaces anything scripted at or after it). */
  at(height: number, satPerVb: number): void {
    this.assertScriptable();
    if (!Number.isInteger(height) || height < 0)
      throw new DevnetError('INVALID_ARGUMENT', `"height" expected a non-negative integer, got ${height}`);
    positive(satPerVb, 'satPerVb');
    this.steps = [...this.steps.filter((s) => s.fromHeight < height), { fromHeight: height, satPerVb }];
  }

  /** The next block lands in a market `factor` × today's level (a spike in one block). */
  spike(factor: number): void {
    this.at(this.opts.tipHeight() + 1, this.level() * positive(factor, 'factor'));
  }

  /** A slow climb to `factor` × today's level, one equal ratio per block over `blocks` blocks. */
  climb(factor: number, blocks: number): void {
    this.assertScriptable();
    positive(factor, 'factor');
    if (!Number.isInteger(blocks) || blocks < 1)
      throw new DevnetError('INVALID_ARGUMENT', `"blocks" expected a positive integer, got ${blocks}`);
    const start = this.level();
    const tip = this.opts.tipHeight();
    this.steps = this.steps.filter((s) => s.fromHeight <= tip);
    for (let i = 1; i <= blocks; i++)
      this.steps.push({ fromHeight: tip + i, satPerVb: start * factor ** (i / blocks) });
  }

  /** The next block is back in fair weather (the base level). */
  crash(): void {
    this.at(this.opts.tipHeight() + 1, this.base);
  }

  /** A second source that reads this market `factor` × higher (or lower, below 1), following it over time. */
  scaled(factor: number, shape?: FeeShape): FeeWeather {
    positive(factor, 'factor');
    const view = new FeeWeather({
      ...this.opts,
      baseSatPerVb: this.base * factor,
      shape: shape ?? this.shape,
    });
    view.follows = { source: this, factor };
    return view;
  }

  /** On a `scaled()` view: change how far it disagrees with its source, from now on. */
  rescale(factor: number): void {
    if (!this.follows) throw new DevnetError('INVALID_ARGUMENT', 'only a scaled fee weather can be rescaled');
    this.follows.factor = positive(factor, 'factor');
  }

  private assertScriptable(): void {
    if (this.follows)
      throw new DevnetError('INVALID_ARGUMENT', 'a scaled fee weather follows its source: script the source');
  }
}

function positive(value: number, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    throw new DevnetError('INVALID_ARGUMENT', `"${name}" expected a positive number, got ${value}`);
  return value;
}

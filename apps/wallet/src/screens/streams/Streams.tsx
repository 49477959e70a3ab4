// Streams: pay a node (keysend) or a Lightning Address / LNURL-pay (an invoice per payment) a rate in
// sats per minute, within a budget and until an end time.
// Each stream shows live what it sent, its fees, the budget and time left, with pause, resume and
// stop. The worker keeps the accounting durable before each payment, so a reload resumes safely.
import { useState } from 'react';
import { Amount, Fiat, Frame, Notice, useBlocker, useNow } from '../../components/ui.tsx';
import { inWords } from '../../lib/messages.ts';
import { useWallet } from '../../stores/wallet.ts';
import { LNURL_STREAM_PERIOD_MS, type StreamView } from '../../worker/protocol.ts';

const MINUTE_MS = 60_000;
const SECOND_MS = 1_000;

/** "2 h 5 min", "4 min 10 s", "9 s". */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s >= 3600) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  if (s >= 60) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${s} s`;
}

const sentence = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
const NODE_ID = /^0[23][0-9a-f]{64}$/i;
/** A node id or a bech32 LNURL shortened; a Lightning Address as typed. */
export const recipient = (to: string) => (to.length > 40 ? `${to.slice(0, 8)}…${to.slice(-6)}` : to);

/** Whole non-negative numbers only; what the worker then refuses (zero, past) it says in words. */
function wholeNumber(text: string, what: string): bigint {
  const cleaned = text.replace(/[\s\u202f_,]/g, '');
  if (!/^[0-9]{1,12}$/.test(cleaned)) throw new Error(`Enter ${what} as a whole number.`);
  return BigInt(cleaned);
}

const STATE_WORDS: Record<StreamView['state'], string> = {
  running: 'Streaming',
  paused: 'Paused',
  stopped: 'Stopped',
  finished: 'Finished',
  failed: 'Failed',
};

function StreamCard(props: { s: StreamView; now: number }) {
  const { s, now } = props;
  const streamControl = useWallet((w) => w.streamControl);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const live = s.state === 'running' || s.state === 'paused';
  const left = s.budgetMsat - s.paidMsat - s.feeMsat;
  const act = async (action: 'pause' | 'resume' | 'stop') => {
    setBusy(true);
    setError(undefined);
    try {
      await streamControl(s.id, action);
    } catch (err) {
      setError(inWords(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <li
      className={`stream-card ${s.state}`}
      data-testid="stream-card"
      data-state={s.state}
      data-count={s.paidCount}
      data-paid-msat={s.paidMsat.toString()}
      data-fee-msat={s.feeMsat.toString()}
      data-in-flight-msat={s.inFlightMsat.toString()}
      data-failed={s.failedAttempts}
    >
      <div className="stream-head">
        <span className={NODE_ID.test(s.payee) ? 'mono' : 'address'} data-testid="stream-to">
          To {recipient(s.payee)}
        </span>
        <span className={`tag ${s.state}`} data-testid="stream-state">
          {STATE_WORDS[s.state]}
        </span>
      </div>
      <p className="small muted">
        {s.satsPerMinute.toString()} sats a minute, paid{' '}
        {s.periodMs === SECOND_MS
          ? 'every second'
          : s.periodMs === MINUTE_MS
            ? 'every minute'
            : `every ${duration(s.periodMs)}`}
      </p>
      <dl className="facts">
        <dt>Sent</dt>
        <dd data-testid="stream-sent">
          <Amount msat={s.paidMsat} /> in {s.paidCount} {s.paidCount === 1 ? 'payment' : 'payments'}
          <Fiat msat={s.paidMsat} />
        </dd>
        <dt>Fees</dt>
        <dd data-testid="stream-fees">
          <Amount msat={s.feeMsat} round="ceil" />
        </dd>
        <dt>Budget left</dt>
        <dd data-testid="stream-budget-left">
          <Amount msat={left > 0n ? left : 0n} /> of <Amount msat={s.budgetMsat} />
        </dd>
        <dt>{live ? 'Time left' : 'Ended'}</dt>
        <dd data-testid="stream-time-left">
          {live ? duration(s.endMs - now) : sentence(s.stopReason ?? STATE_WORDS[s.state])}
        </dd>
      </dl>
      {error && <Notice tone="error">{error}</Notice>}
      {live && (
        <div className="pair">
          {s.state === 'running' ? (
            <button type="button" className="secondary" disabled={busy} onClick={() => void act('pause')}>
              Pause
            </button>
          ) : (
            <button type="button" className="secondary" disabled={busy} onClick={() => void act('resume')}>
              Resume
            </button>
          )}
          <button type="button" className="secondary" disabled={busy} onClick={() => void act('stop')}>
            Stop
          </button>
        </div>
      )}
    </li>
  );
}

function StartForm(props: { onStarted: () => void }) {
  const startStream = useWallet((w) => w.startStream);
  const blocker = useBlocker();
  const [to, setTo] = useState('');
  const [rate, setRate] = useState('60');
  const [perSecond, setPerSecond] = useState(false);
  const [budget, setBudget] = useState('1000');
  const [minutes, setMinutes] = useState('10');
  const [onRestart, setOnRestart] = useState<'resume' | 'stop'>('resume');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  // a Lightning Address (or LNURL) is asked for an invoice before each payment: not every second
  const toAddress = to.trim() !== '' && !NODE_ID.test(to.trim());
  const finePeriodMs = toAddress ? LNURL_STREAM_PERIOD_MS : SECOND_MS;
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setError(undefined);
    let request: Parameters<typeof startStream>[0];
    try {
      request = {
        to: to.trim(),
        satsPerMinute: wholeNumber(rate, 'the rate in sats per minute'),
        periodMs: perSecond ? finePeriodMs : MINUTE_MS,
        budgetMsat: wholeNumber(budget, 'the budget in sats') * 1000n,
        untilMs: Date.now() + Number(wholeNumber(minutes, 'the duration in minutes')) * MINUTE_MS,
        onRestart,
      };
    } catch (err) {
      return setError(err instanceof Error ? err.message : String(err));
    }
    setBusy(true);
    try {
      await startStream(request);
      props.onStarted();
    } catch (err) {
      setError(inWords(err));
    } finally {
      setBusy(false);
    }
  };
  // editing the form answers the last refusal, so its message goes
  return (
    <form onSubmit={submit} onChange={() => setError(undefined)} data-testid="stream-form">
      <label className="field">
        <span>Recipient: node id or Lightning Address</span>
        <textarea
          name="to"
          rows={2}
          autoComplete="off"
          spellCheck={false}
          value={to}
          onChange={(e) => setTo(e.target.value)}
        />
      </label>
      <label className="field">
        <span>Rate (sats per minute)</span>
        <input
          name="rate"
          inputMode="numeric"
          autoComplete="off"
          value={rate}
          onChange={(e) => setRate(e.target.value)}
        />
      </label>
      <fieldset className="units">
        <legend>Pay</legend>
        <label className="radio">
          <input type="radio" name="period" checked={!perSecond} onChange={() => setPerSecond(false)} />
          Once a minute (default)
        </label>
        <label className="radio">
          <input type="radio" name="period" checked={perSecond} onChange={() => setPerSecond(true)} />
          {toAddress ? `Every ${LNURL_STREAM_PERIOD_MS / SECOND_MS} seconds` : 'Every second'}
        </label>
        <p className="small muted">
          {toAddress
            ? `A Lightning Address is asked for an invoice before each payment, through your service provider, so it is paid at most every ${LNURL_STREAM_PERIOD_MS / SECOND_MS} seconds.`
            : 'Every second settles more finely, but each payment pays its own routing fee and adds about 300 bytes to your channel’s stored state.'}
        </p>
      </fieldset>
      <label className="field">
        <span>Budget (sats, fees included)</span>
        <input
          name="budget"
          inputMode="numeric"
          autoComplete="off"
          value={budget}
          onChange={(e) => setBudget(e.target.value)}
        />
      </label>
      <label className="field">
        <span>Duration (minutes)</span>
        <input
          name="minutes"
          inputMode="numeric"
          autoComplete="off"
          value={minutes}
          onChange={(e) => setMinutes(e.target.value)}
        />
      </label>
      <fieldset className="units">
        <legend>If the app closes or reloads</legend>
        <label className="radio">
          <input
            type="radio"
            name="on-restart"
            checked={onRestart === 'resume'}
            onChange={() => setOnRestart('resume')}
          />
          Continue the stream
        </label>
        <label className="radio">
          <input
            type="radio"
            name="on-restart"
            checked={onRestart === 'stop'}
            onChange={() => setOnRestart('stop')}
          />
          Stop the stream
        </label>
      </fieldset>
      {blocker && <Notice tone="warn">{blocker}</Notice>}
      {error && (
        <Notice tone="error" testId="stream-error">
          {error}
        </Notice>
      )}
      <div className="actions">
        <button type="submit" className="primary" disabled={busy || blocker !== undefined}>
          {busy ? 'Starting…' : 'Start stream'}
        </button>
      </div>
    </form>
  );
}

export function Streams() {
  const streams = useWallet((w) => w.snapshot?.streams ?? []);
  const now = useNow(1000);
  const [adding, setAdding] = useState(false);
  // the live streams come first; the form is one tap away once there are any
  const showForm = adding || streams.length === 0;
  return (
    <Frame title="Streams" back testId="screen-streams">
      {streams.length > 0 && (
        <ul className="streams" data-testid="streams">
          {streams.map((s) => (
            <StreamCard key={s.id} s={s} now={now} />
          ))}
        </ul>
      )}
      {showForm ? (
        <>
          <h2>New stream</h2>
          <StartForm onStarted={() => setAdding(false)} />
        </>
      ) : (
        <button type="button" className="secondary" onClick={() => setAdding(true)}>
          New stream
        </button>
      )}
    </Frame>
  );
}

// The event pump: what LDK's BackgroundProcessor does, which the bindings lack. One coalesced step
// processes ChannelManager and ChainMonitor events, lets the PeerManager send, then cuts a commit
// (persist/manager-snapshot.ts decides whether the manager is snapshotted inside it) and
// re-arms the futures that wake it. Timers drive LDK's periodic duties.
import * as ldk from 'lightningdevkit';
import { type CallbackErrorSink, guard, type Retainer } from './ldk/callbacks.ts';
import { freeLdk } from './ldk/free.ts';
import type { CommitQueue } from './persist/commit-queue.ts';
import type { Scheduler } from './scheduler.ts';

export interface PumpOptions {
  channelManager: ldk.ChannelManager;
  chainMonitor: ldk.ChainMonitor;
  peerManager: ldk.PeerManager;
  queue: CommitQueue;
  /** Handles one LDK event; return false to have LDK replay it later. */
  handleEvent: (event: ldk.Event) => boolean;
  scheduler: Scheduler;
  retainer: Retainer;
  onCallbackError: CallbackErrorSink;
  /** Delay before forwarding pending HTLCs (LDK suggests ~100 ms for privacy; 0 = next tick). */
  forwardDelayMs: number;
  /** Extra periodic duties (graph/scorer persistence, chain sync), each with its period. */
  periodic: Array<{ name: string; everyMs: number; run: () => void | Promise<void> }>;
}

const MAX_ROUNDS = 16;

export class Pump {
  private readonly o: PumpOptions;
  private readonly eventHandler: ldk.EventHandler;
  private readonly cmEvents: ldk.EventsProvider;
  private readonly monitorEvents: ldk.EventsProvider;
  private readonly managerWoke: ldk.FutureCallback;
  private readonly monitorWoke: ldk.FutureCallback;
  private managerArmed = false;
  private monitorArmed = false;
  private scheduled = false;
  private forwardsScheduled = false;
  private handled = 0;
  private running = false;
  private stopped = false;
  private readonly timers: unknown[] = [];
  /** Steps run, for tests and metrics. */
  steps = 0;

  constructor(options: PumpOptions) {
    this.o = options;
    const { retainer, onCallbackError } = options;
    // The bindings copy the returned Result into Rust: one ok value serves every event, instead of
    // one more object per event for the finalizers.
    const ok = retainer.keep(ldk.Result_NoneReplayEventZ.constructor_ok());
    const replay = retainer.keep(
      ldk.Result_NoneReplayEventZ.constructor_err(ldk.ReplayEvent.constructor_new()),
    );
    const handlerImpl: ldk.EventHandlerInterface = {
      handle_event: guard(
        'EventHandler.handle_event',
        (event: ldk.Event) => {
          try {
            if (!options.handleEvent(event)) return replay;
          } finally {
            // our copy of the event (LDK keeps its own to replay); handlers copy what they keep
            freeLdk(event);
          }
          // only handled events count: a replayed one must not spin the step loop (whoever asked
          // for the replay wakes the pump when it can be handled)
          this.handled++;
          return ok;
        },
        ok,
        onCallbackError,
      ),
    };
    retainer.keep(handlerImpl);
    this.eventHandler = retainer.keep(ldk.EventHandler.new_impl(handlerImpl));
    this.cmEvents = retainer.keep(options.channelManager.as_EventsProvider());
    this.monitorEvents = retainer.keep(options.chainMonitor.as_EventsProvider());
    // One callback object per future source for the node's life: a registered callback must never
    // be collected, and the futures must not call back into LDK (we only schedule a step).
    const managerImpl: ldk.FutureCallbackInterface = {
      call: guard(
        'FutureCallback(manager)',
        () => {
          this.managerArmed = false;
          this.wake();
        },
        undefined,
        onCallbackError,
      ),
    };
    const monitorImpl: ldk.FutureCallbackInterface = {
      call: guard(
        'FutureCallback(chain monitor)',
        () => {
          this.monitorArmed = false;
          this.wake();
        },
        undefined,
        onCallbackError,
      ),
    };
    retainer.keep(managerImpl);
    retainer.keep(monitorImpl);
    this.managerWoke = retainer.keep(ldk.FutureCallback.new_impl(managerImpl));
    this.monitorWoke = retainer.keep(ldk.FutureCallback.new_impl(monitorImpl));
  }

  start(): void {
    const { channelManager, peerManager, chainMonitor, scheduler } = this.o;
    const every = (name: string, ms: number, fn: () => void | Promise<void>) => {
      this.timers.push(
        scheduler.setInterval(() => {
          if (this.stopped) return;
          try {
            const result = fn();
            if (result instanceof Promise) result.catch((e: unknown) => this.o.onCallbackError(name, e));
          } catch (error) {
            this.o.onCallbackError(name, error);
          }
          this.wake();
        }, ms),
      );
    };
    every('ChannelManager.timer_tick_occurred', 60_000, () => channelManager.timer_tick_occurred());
    every('PeerManager.timer_tick_occurred', 10_000, () => peerManager.timer_tick_occurred());
    every('ChainMonitor.rebroadcast_pending_claims', 30_000, () => chainMonitor.rebroadcast_pending_claims());
    for (const duty of this.o.periodic) every(duty.name, duty.everyMs, duty.run);
    this.wake();
  }

  /** Schedules one step soon; many wakes before it runs coalesce into one. */
  wake(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    this.o.scheduler.defer(() => {
      this.scheduled = false;
      this.step();
    });
  }

  /** LDK asked (PendingHTLCsForwardable, an intercepted HTLC released): forward after the delay. */
  scheduleForwards(): void {
    if (this.forwardsScheduled || this.stopped) return;
    this.forwardsScheduled = true;
    const run = () => {
      this.forwardsScheduled = false;
      if (this.stopped) return;
      try {
        this.o.channelManager.process_pending_htlc_forwards();
      } catch (error) {
        this.o.onCallbackError('ChannelManager.process_pending_htlc_forwards', error);
      }
      this.wake();
    };
    if (this.o.forwardDelayMs > 0) this.o.scheduler.setTimeout(run, this.o.forwardDelayMs);
    else this.o.scheduler.defer(run);
  }

  /** One pump step, synchronously. Never call from inside an LDK callback. */
  step(): void {
    if (this.stopped || this.running) return;
    this.running = true;
    this.steps++;
    try {
      for (let round = 0; round < MAX_ROUNDS; round++) {
        const before = this.handled;
        this.cmEvents.process_pending_events(this.eventHandler);
        this.monitorEvents.process_pending_events(this.eventHandler);
        forgetHandlerRefs(this.cmEvents, this.monitorEvents);
        this.o.peerManager.process_events();
        if (this.handled === before) break;
        if (round === MAX_ROUNDS - 1) this.wake(); // more left: yield to I/O, continue next tick
      }
      this.o.queue.flush();
      this.arm();
    } catch (error) {
      this.o.onCallbackError('Pump.step', error);
    } finally {
      this.running = false;
    }
  }

  /**
   * Lets the ChannelManager process pending events now — above all the MonitorEvent::Completed our
   * acknowledgements queued (channelmanager.rs `process_pending_monitor_events`, run by
   * `process_pending_events`), so the next snapshot no longer lists acknowledged updates in flight.
   * Called by the commit queue's hook, never from inside an LDK callback.
   */
  processManagerEvents(): void {
    try {
      this.cmEvents.process_pending_events(this.eventHandler);
      forgetHandlerRefs(this.cmEvents);
    } catch (error) {
      this.o.onCallbackError('Pump.processManagerEvents', error);
    }
  }

  /** Stops timers and further steps; the caller then drains the commit queue. */
  stop(): void {
    this.stopped = true;
    for (const t of this.timers) this.o.scheduler.clearInterval(t);
    this.timers.length = 0;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  private arm(): void {
    // the futures' handles are ours: the callback stays registered in LDK (and retained by us)
    if (!this.managerArmed) {
      this.managerArmed = true;
      const future = this.o.channelManager.get_event_or_persistence_needed_future();
      future.register_callback_fn(this.managerWoke);
      freeLdk(future);
    }
    if (!this.monitorArmed) {
      this.monitorArmed = true;
      const future = this.o.chainMonitor.get_update_future();
      future.register_callback_fn(this.monitorWoke);
      freeLdk(future);
    }
  }
}

/**
 * The bindings append the handler to a provider's `ptrs_to` on every `process_pending_events`
 * (a keep-alive reference), so a provider kept for the node's life grows by one entry per step.
 * The handler is retained by the Retainer already: the list can be emptied.
 */
function forgetHandlerRefs(...providers: ldk.EventsProvider[]): void {
  for (const p of providers) (p as unknown as { ptrs_to: unknown[] }).ptrs_to.length = 0;
}

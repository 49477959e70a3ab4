// When a ChannelManager snapshot goes into a commit. A batch carrying monitor writes always carries
// a snapshot taken after them (the manager is never older than its monitors, and lists in flight
// every update not yet acknowledged), and so does a batch cut when LDK asked for one because of
// anything else (a send, a channel open, an event): those are written as before. One kind waits:
// the snapshot LDK asks for only because the manager processed the MonitorEvent::Completed of our
// acknowledgements (its in-flight list shrank, completion actions ran) — on a payment's critical
// path about every other commit was one of those, alone. It rides with the next batch that carries
// any write (a payment record must land with the manager that knows its payment), or is written
// alone once `delayMs` passed without one, or when the node stops.
//
// Why deferring it is safe: what the store holds meanwhile is exactly what a crash right before
// that manager-only commit leaves, which restore already handles — the snapshot cut with the last
// monitor writes, those writes and its in-flight record (`snapshotCut`). LDK treats the in-flight
// updates the monitors hold as completed and replays their completion; the claim case takes
// restore.ts's fallback path. Nothing the deferred snapshot holds is lost for good: messages the
// completion released are resent by channel re-establishment, events it marks handled are replayed
// to idempotent handlers, and any later write brings a fresh snapshot into its own commit.
// Acknowledgements to LDK still wait for the commit holding their update; the in-flight record is
// still written only with a snapshot, so it always describes the stored one.
import type { CommitQueue } from './commit-queue.ts';
import type { StoredManager } from './manager-chunks.ts';
import type { MonitorPersister } from './monitor-persister.ts';

export interface ManagerSnapshotOptions {
  queue: CommitQueue;
  persister: MonitorPersister;
  /** LDK's `get_and_clear_needs_persistence`. */
  takeNeedsPersistence: () => boolean;
  /** Serializes the manager (`ChannelManager.write`). */
  write: () => Uint8Array;
  /** The stored form (plain or chunks): the writes that replace the stored snapshot. */
  stored: StoredManager;
  /** Lets the manager process the MonitorEvent::Completed our acknowledgements queued. */
  processAcked: () => void;
  setTimer: (fn: () => void, ms: number) => unknown;
  clearTimer: (handle: unknown) => void;
  /** Longest the acknowledgements' snapshot waits for a batch with other writes. */
  delayMs: number;
}

export class ManagerSnapshots {
  private readonly o: ManagerSnapshotOptions;
  /** LDK asked for a snapshot for anything but acknowledgements: the next batch carries one. */
  private wanted = false;
  /** Only the acknowledgements' completion is missing from the stored snapshot. */
  private deferred = false;
  private due = false;
  private timer: unknown = null;
  /** Stopping: every snapshot is written at once (the last one must land). */
  immediate = false;

  constructor(options: ManagerSnapshotOptions) {
    this.o = options;
    options.queue.beforeCommit(() => this.beforeCommit());
  }

  /**
   * Right after a durable commit (and before any cut): the manager processes the
   * MonitorEvent::Completed our acknowledgements queued (node.ts says why in the same turn). LDK's
   * flag is read before and after, so only what that processing changed is deferred.
   */
  processAcknowledgements(): void {
    if (!this.o.persister.takeAcked()) return;
    if (this.o.takeNeedsPersistence()) this.wanted = true;
    this.o.processAcked();
    if (this.o.takeNeedsPersistence()) this.deferred = true;
  }

  // Before a snapshot is cut, the manager processes the MonitorEvent::Completed our
  // acknowledgements produced: its in-flight monitor updates are then exactly those not yet
  // acknowledged, and the persister records where that list starts with the snapshot.
  private beforeCommit(): void {
    const { persister, queue } = this.o;
    this.processAcknowledgements();
    if (this.o.takeNeedsPersistence()) this.wanted = true;
    const write =
      persister.monitorsDirty ||
      this.wanted ||
      (this.deferred && (queue.hasWrites || this.due || this.immediate));
    if (!write) {
      if (this.deferred && this.timer === null) {
        this.timer = this.o.setTimer(() => {
          this.timer = null;
          this.due = true;
          queue.flush();
        }, this.o.delayMs);
      }
      return;
    }
    this.writeNow();
  }

  /** Queues a snapshot into the next batch now (a new node's first manager, or the cut above). */
  writeNow(): void {
    const { persister, queue } = this.o;
    persister.monitorsDirty = false;
    this.wanted = false;
    this.deferred = false;
    this.due = false;
    if (this.timer !== null) this.o.clearTimer(this.timer);
    this.timer = null;
    for (const { key, value } of this.o.stored.writes(this.o.write())) queue.write(key, value);
    persister.snapshotCut();
  }
}

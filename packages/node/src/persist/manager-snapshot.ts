// When a ChannelManager snapshot goes into a commit. A batch carrying monitor writes always carries
// a snapshot taken after them (the manager is never older than its monitors, and lists in flight
// every update not yet acknowledged). So does a batch carrying any other write: a payment record
// must land with the manager that knows of its payment (a `pending` record whose send the stored
// manager never saw would stay pending forever). Only a snapshot that would be alone in its commit
// — mostly the manager having processed the MonitorEvent::Completed of our acknowledgements — is
// deferred: it rides with the next batch that carries anything, or is written on its own once
// `delayMs` passed without one, or when the node stops.
//
// Why deferring is safe: what the store holds meanwhile is exactly what a crash right before that
// manager-only commit leaves, which restore already handles: the snapshot cut with the last
// monitor writes, those writes and its in-flight record (`snapshotCut`). LDK treats the in-flight
// updates the monitors hold as completed and replays their completion; the claim case takes
// restore.ts's fallback path. Nothing a deferred snapshot holds is lost for good: messages its
// completion released are resent by channel re-establishment, events it marks handled are
// replayed to idempotent handlers, and the next write of any kind brings a fresh snapshot into its
// own commit. Acknowledgements to LDK still wait for the commit holding their update; only the
// number of commits changes (on a payment's critical path, about every other one was manager-only).
import type { CommitQueue } from './commit-queue.ts';
import { MANAGER_KEY } from './keys.ts';
import type { MonitorPersister } from './monitor-persister.ts';

export interface ManagerSnapshotOptions {
  queue: CommitQueue;
  persister: MonitorPersister;
  /** LDK's `get_and_clear_needs_persistence`. */
  takeNeedsPersistence: () => boolean;
  /** Serializes the manager (`ChannelManager.write`). */
  write: () => Uint8Array;
  /** Lets the manager process the MonitorEvent::Completed our acknowledgements queued. */
  processAcked: () => void;
  setTimer: (fn: () => void, ms: number) => unknown;
  clearTimer: (handle: unknown) => void;
  /** Longest a snapshot LDK asked for waits for a batch with monitor writes. */
  delayMs: number;
}

export class ManagerSnapshots {
  private readonly o: ManagerSnapshotOptions;
  /** LDK asked for a snapshot (its flag is cleared when read) that no commit has carried yet. */
  private pending = false;
  private due = false;
  private timer: unknown = null;
  /** Stopping: every snapshot LDK asks for is written at once (the last one must land). */
  immediate = false;

  constructor(options: ManagerSnapshotOptions) {
    this.o = options;
    options.queue.beforeCommit(() => this.beforeCommit());
  }

  // Before a snapshot is cut, the manager processes the MonitorEvent::Completed our
  // acknowledgements produced: its in-flight monitor updates are then exactly those not yet
  // acknowledged, and the persister records where that list starts with the snapshot.
  private beforeCommit(): void {
    const { persister, queue } = this.o;
    if (persister.takeAcked()) this.o.processAcked();
    if (this.o.takeNeedsPersistence()) this.pending = true;
    const write =
      persister.monitorsDirty || (this.pending && (queue.hasWrites || this.due || this.immediate));
    if (!write) {
      if (this.pending && this.timer === null) {
        this.timer = this.o.setTimer(() => {
          this.timer = null;
          this.due = true;
          queue.flush();
        }, this.o.delayMs);
      }
      return;
    }
    persister.monitorsDirty = false;
    this.pending = false;
    this.due = false;
    if (this.timer !== null) this.o.clearTimer(this.timer);
    this.timer = null;
    queue.write(MANAGER_KEY, this.o.write());
    persister.snapshotCut();
  }
}

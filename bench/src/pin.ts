// Pinning bench processes to CPUs with util-linux's taskset, so a server under test and the clients
// that load it do not take each other's CPU on a small machine, as they would not in a deployment.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** The CPUs this process may run on (Linux: Cpus_allowed_list in /proc), ascending. */
export function allowedCpus(): number[] {
  let status: string;
  try {
    status = readFileSync('/proc/self/status', 'utf8');
  } catch {
    return [];
  }
  const list = /^Cpus_allowed_list:\s*(\S+)$/m.exec(status)?.[1] ?? '';
  return list.split(',').flatMap((range) => {
    const [from, to] = range.split('-').map(Number);
    if (from === undefined || Number.isNaN(from)) return [];
    return Array.from({ length: (to ?? from) - from + 1 }, (_, i) => from + i);
  });
}

/**
 * Pins every thread of process `pid` to `cpus` (threads it starts later inherit it). Returns why
 * not when it could not (no taskset on this machine, a CPU not allowed).
 */
export function pin(pid: number, cpus: readonly number[]): string | undefined {
  const run = spawnSync('taskset', ['--all-tasks', '--cpu-list', '--pid', cpus.join(','), String(pid)], {
    encoding: 'utf8',
  });
  if (run.error) return `taskset: ${run.error.message}`;
  if (run.status !== 0) return `taskset exited ${run.status}: ${run.stderr.trim()}`;
  return undefined;
}

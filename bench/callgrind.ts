// One subject's server under valgrind's callgrind, counting only the
// requests after a warm-up: shared by `bench:instructions` (totals) and
// `bench:profile` (where they go).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Adapter,
  checkStatuses,
  type Scenario,
  type Subject,
} from './scenarios';
import { send, start, stop } from './subjects';

export interface CallgrindJob {
  readonly scenario: Scenario;
  readonly adapter: Adapter;
  readonly subject: Exclude<Subject, 'raw'>;
}

export interface CallgrindOptions {
  readonly warmup: number;
  readonly requests: number;
  /** Node flags of the counted server (`--predictable`, `--perf-basic-prof`). */
  readonly nodeFlags: readonly string[];
  /**
   * Counted windows of `requests` each, one dump per window (callgrind
   * zeroes its counters at each dump). Default 1.
   */
  readonly windows?: number;
}

/**
 * Sends `warmup` requests one at a time over one kept-alive connection,
 * turns counting on, then sends `requests` more and has callgrind dump,
 * `windows` times. `read` gets the dump files in window order and the
 * server's pid while they still exist; its result comes back with the last
 * status seen.
 */
export async function underCallgrind<T>(
  { scenario, adapter, subject }: CallgrindJob,
  { warmup, requests, nodeFlags, windows = 1 }: CallgrindOptions,
  read: (dumps: readonly string[], pid: number) => T,
): Promise<{ result: T; status: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-callgrind-'));
  const running = await start(subject, adapter, {
    wrapper: {
      command: 'valgrind',
      args: [
        '--quiet',
        '--tool=callgrind',
        // Nothing is counted (and valgrind runs faster) until the warm-up is over.
        '--instr-atstart=no',
        `--callgrind-out-file=${join(dir, 'callgrind.out')}`,
      ],
      nodeFlags: [...nodeFlags],
    },
  });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    for (let i = 0; i < warmup; i++) await send(running, scenario, agent);
    const pid = running.child.pid!;
    execFileSync('callgrind_control', ['--instr=on', String(pid)], {
      stdio: 'ignore',
    });
    let status = 0;
    const statuses: Record<string, { count: number }> = {};
    for (let window = 0; window < windows; window++) {
      for (let i = 0; i < requests; i++) {
        status = await send(running, scenario, agent);
        (statuses[status] ??= { count: 0 }).count++;
      }
      execFileSync('callgrind_control', ['--dump', String(pid)], {
        stdio: 'ignore',
      });
    }
    // callgrind.out.1, .2, ...: one per dump, in order.
    const dumps = readdirSync(dir)
      .map((name) => /\.(\d+)$/.exec(name))
      .filter((match) => match !== null)
      .sort((a, b) => Number(a[1]) - Number(b[1]))
      .map((match) => join(dir, match.input));
    checkStatuses(`${adapter} ${subject}`, scenario, statuses);
    return { result: read(dumps, pid), status };
  } finally {
    agent.destroy();
    await stop(running);
    rmSync(dir, { recursive: true, force: true });
  }
}

// Starting and stopping benchmark subjects, and reading their CPU time.
import { type ChildProcess, fork, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { type Agent, request } from 'node:http';
import { join } from 'node:path';
import type { Adapter, Scenario, Subject } from './scenarios';

const SERVER = join(__dirname, 'server.js');

export interface Running {
  readonly child: ChildProcess;
  readonly url: string;
}

/** Whether `taskset` (util-linux) can pin processes to a core here. */
export function canPin(): boolean {
  return spawnSync('taskset', ['-c', '0', 'true']).status === 0;
}

/** Pins a running process (this one, by default) to a core list (`taskset -c`: `1`, `0,1`). */
export function pin(
  cores: string,
  pid: number | undefined = process.pid,
): void {
  if (pid === undefined) return;
  spawnSync('taskset', ['-a', '-p', '-c', cores, String(pid)], {
    stdio: 'ignore',
  });
}

/**
 * One subject on one adapter in a child process (`server.ts`), optionally
 * pinned to a core from its start. `recorded`: the responses `raw` replays.
 */
export function start(
  subject: Subject,
  adapter: Adapter,
  options: {
    recorded?: unknown;
    core?: number;
    /** A command that runs node (`valgrind …`), and node flags of its own. */
    wrapper?: { command: string; args: string[]; nodeFlags?: string[] };
  } = {},
): Promise<Running> {
  const args = [
    subject,
    adapter,
    Buffer.from(JSON.stringify(options.recorded ?? {})).toString('base64'),
  ];
  const wrapper =
    options.wrapper ??
    (options.core === undefined
      ? undefined
      : { command: 'taskset', args: ['-c', String(options.core)] });
  const nodeFlags = ['--expose-gc', ...(wrapper?.nodeFlags ?? [])];
  // taskset and valgrind exec node in their own process: the child's pid stays node's.
  const child = wrapper
    ? fork(SERVER, args, {
        execPath: wrapper.command,
        execArgv: [...wrapper.args, process.execPath, ...nodeFlags],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      })
    : fork(SERVER, args, {
        execArgv: nodeFlags,
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
  return new Promise((resolve, reject) => {
    child.once('message', (message: { port?: number }) =>
      resolve({ child, url: `http://127.0.0.1:${message.port}` }),
    );
    child.once('exit', (code) =>
      reject(new Error(`${subject} on ${adapter} exited with ${code}`)),
    );
  });
}

/** One request of a scenario over `agent`'s connections; gives the status. */
export function send(
  running: Running,
  scenario: Scenario,
  agent: Agent,
): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const url = new URL(scenario.path, running.url);
    const outgoing = request(
      url,
      { method: scenario.method, headers: scenario.headers, agent },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    outgoing.on('error', reject);
    outgoing.end(scenario.body);
  });
}

export function stop(running: Running): Promise<void> {
  return new Promise((resolve) => {
    running.child.once('exit', () => resolve());
    running.child.kill('SIGKILL');
  });
}

/**
 * CPU time used so far by a process, in ms, from /proc (Linux). Requests per
 * second move with whatever else the two cores are doing (the load generator
 * shares them); CPU time per request moves much less, so it is reported too.
 */
export function cpuMs(pid: number | undefined): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces: fields are counted after its ")".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime, fields 14 and 15 of stat(5), in clock ticks (100 per second on Linux).
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

export const median = (values: readonly number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** (max − min) / median: how far the rounds of one measurement disagree. */
export const spreadOf = (values: readonly number[]): number =>
  Math.round(
    ((Math.max(...values) - Math.min(...values)) / median(values)) * 100,
  ) / 100;

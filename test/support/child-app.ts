import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/**
 * Run in the child before its entry: TypeScript compiled by SWC with the
 * options Jest uses (jest.config.js), so a fixture runs as it does in Jest.
 */
const LOADER = `
const { readFileSync } = require('node:fs');
const swc = require('@swc/core');
const config = require(${JSON.stringify(join(ROOT, 'jest.config.js'))});
const options = Object.values(config.transform)[0][1];
require.extensions['.ts'] = (module, filename) => {
  const { code } = swc.transformSync(readFileSync(filename, 'utf8'), { ...options, filename });
  module._compile(code, filename);
};
require(process.env.CHILD_ENTRY);
`;

/** A message the child sent over IPC. */
export type ChildMessage = Record<string, unknown>;

/** A Node process running a TypeScript fixture, with its IPC messages. */
export class ChildApp {
  readonly messages: ChildMessage[] = [];
  private waiters: (() => void)[] = [];

  private constructor(readonly process: ChildProcess) {
    const wake = () => {
      for (const waiter of this.waiters.splice(0)) waiter();
    };
    process.on('message', (message: ChildMessage) => {
      this.messages.push(message);
      wake();
    });
    process.on('exit', wake);
  }

  /** Starts `entry` (a path under the repository) with `env` added. */
  static start(entry: string, env: Record<string, string>): ChildApp {
    return new ChildApp(
      spawn(process.execPath, ['-e', LOADER], {
        cwd: ROOT,
        env: { ...process.env, ...env, CHILD_ENTRY: join(ROOT, entry) },
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      }),
    );
  }

  /** The first message (so far or to come) that `match` accepts; rejects if the child exits first. */
  async message(
    match: (message: ChildMessage) => boolean,
  ): Promise<ChildMessage> {
    for (;;) {
      const found = this.messages.find(match);
      if (found) return found;
      if (this.process.exitCode !== null || this.process.signalCode !== null)
        throw new Error(
          `the child exited (${this.process.exitCode ?? this.process.signalCode}) first: ${JSON.stringify(this.messages)}`,
        );
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** SIGKILL, as the OOM killer or `kill -9` would: no shutdown hook runs. */
  async kill(): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null)
      return;
    const exited = once(this.process, 'exit');
    this.process.kill('SIGKILL');
    await exited;
  }
}

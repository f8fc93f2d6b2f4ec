// `npm run bench:cpu`: CPU time per request of each subject, with the server
// pinned to one core and the load generator to the other, so that neither
// competes with the other for a core. Steadier than requests per second on a
// small machine, where `npm run bench` shares both cores with autocannon.
import autocannon from 'autocannon';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import {
  type Adapter,
  checkStatuses,
  DECOMPOSED,
  PER_REQUEST_SCENARIOS,
  SELECTED_ADAPTERS,
  type Scenario,
  type Subject,
} from './scenarios';
import {
  canPin,
  cpuMs,
  median,
  pin,
  type Running,
  spreadOf,
  start,
  stop,
} from './subjects';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
/** Requests per round; Express answers about five times slower than Fastify. */
const REQUESTS: Record<Adapter, number> = {
  express: Number(process.env.BENCH_REQUESTS ?? 5_000),
  fastify: Number(process.env.BENCH_REQUESTS ?? 20_000),
};
const WARMUP_REQUESTS = 5_000;
const RESULTS = join(__dirname, '..', '..', '..', 'bench', 'cpu-results.json');

interface CpuRow {
  scenario: string;
  adapter: Adapter;
  subject: Subject;
  /** Median over the rounds of the server's CPU time (user + system) per request. */
  cpuUs: number;
  /** (max − min) / median of the rounds. */
  spread: number;
  /** Status codes answered in the last round. */
  statuses: string;
}

/** One round; `label` (the measured rounds, not the warm-up) checks every status. */
async function round(
  running: Running,
  scenario: Scenario,
  amount: number,
  label?: string,
): Promise<{ cpuUs: number; statuses: string }> {
  const before = cpuMs(running.child.pid);
  const result = await autocannon({
    url: `${running.url}${scenario.path}`,
    method: scenario.method,
    headers: scenario.headers,
    body: scenario.body,
    connections: CONNECTIONS,
    amount,
  });
  const after = cpuMs(running.child.pid);
  if (before === undefined || after === undefined)
    throw new Error('bench:cpu reads CPU time from /proc: Linux only');
  if (label !== undefined)
    checkStatuses(
      label,
      scenario,
      result.statusCodeStats,
      result.errors, // autocannon counts timeouts among its errors
    );
  return {
    cpuUs: ((after - before) * 1000) / result.requests.total,
    statuses: Object.keys(result.statusCodeStats ?? {}).join(','),
  };
}

async function main(): Promise<void> {
  const startedAt = Date.now();
  const pinned = cpus().length >= 2 && canPin();
  if (pinned) pin('1');
  else
    process.stderr.write(
      'bench:cpu: taskset or a second core is missing; the server and the load generator are not pinned\n',
    );
  const rows: CpuRow[] = [];
  for (const adapter of SELECTED_ADAPTERS) {
    const subjects: Subject[] = ['bare', 'bare-contract', 'peer', 'module'];
    const running = new Map<Subject, Running>();
    for (const subject of subjects)
      running.set(
        subject,
        await start(subject, adapter, pinned ? { core: 0 } : {}),
      );
    for (const scenario of PER_REQUEST_SCENARIOS) {
      const measured = subjects.filter(
        (subject) =>
          subject !== 'bare-contract' || DECOMPOSED.includes(scenario.name),
      );
      for (const subject of measured)
        await round(running.get(subject)!, scenario, WARMUP_REQUESTS);
      const samples = new Map<Subject, number[]>();
      const statuses = new Map<Subject, string>();
      for (let index = 0; index < ROUNDS; index++) {
        // Rotate who goes first, so no subject always meets a warmer machine.
        for (let i = 0; i < measured.length; i++) {
          const subject = measured[(i + index) % measured.length];
          const result = await round(
            running.get(subject)!,
            scenario,
            REQUESTS[adapter],
            `${adapter} ${subject}`,
          );
          if (!samples.has(subject)) samples.set(subject, []);
          samples.get(subject)!.push(result.cpuUs);
          statuses.set(subject, result.statuses);
        }
      }
      for (const subject of measured) {
        const values = samples.get(subject)!;
        rows.push({
          scenario: scenario.name,
          adapter,
          subject,
          cpuUs: Math.round(median(values) * 10) / 10,
          spread: spreadOf(values),
          statuses: statuses.get(subject)!,
        });
      }
      process.stderr.write(`${adapter} ${scenario.name} done\n`);
    }
    for (const each of running.values()) await stop(each);
  }

  writeFileSync(RESULTS, `${JSON.stringify(rows, null, 2)}\n`);
  const cell = (scenario: string, adapter: Adapter, subject: Subject) => {
    const row = rows.find(
      (r) =>
        r.scenario === scenario &&
        r.adapter === adapter &&
        r.subject === subject,
    );
    return row ? `${row.cpuUs} (±${Math.round(row.spread * 50)}%)` : '–';
  };
  const lines = [
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}; ${pinned ? 'server on core 0, autocannon on core 1' : 'not pinned'}; ${ROUNDS} rounds of ${REQUESTS.fastify} (Fastify) / ${REQUESTS.express} (Express) requests, ${CONNECTIONS} connections; median CPU µs per request (± half the spread of the rounds).`,
    '',
    '| scenario | adapter | bare | bare-contract | peer | module |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
    ...SELECTED_ADAPTERS.flatMap((adapter) =>
      PER_REQUEST_SCENARIOS.map(
        ({ name }) =>
          `| ${name} | ${adapter} | ${cell(name, adapter, 'bare')} | ${cell(name, adapter, 'bare-contract')} | ${cell(name, adapter, 'peer')} | ${cell(name, adapter, 'module')} |`,
      ),
    ),
    '',
    `Finished in ${Math.round((Date.now() - startedAt) / 1000)} s. Figures also in bench/cpu-results.json.`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:cpu failed: ${String(error)}\n`);
  process.exit(1);
});

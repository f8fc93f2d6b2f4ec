// `npm run bench:instructions`: machine instructions per request of each
// subject, counted by valgrind's callgrind. Unlike requests/s or CPU time, a
// count does not move with what else the machine is doing: the same code
// gives the same count within a fraction of a percent, so differences of 1%
// between subjects, or between two commits, can be read.
//
// What it counts: every instruction the server's node process runs in user
// space while it answers the measured requests (JavaScript, V8, Node, the
// garbage collector). What it leaves out: the kernel (sockets, syscalls),
// which does the same work for every subject that sends the same bytes. Node
// runs with V8's `--predictable`: single-threaded (compilation and garbage
// collection happen on the counted thread, as on a busy one-core server) and
// with no decision taken from the clock. Without it, V8 sizes its heap and
// paces its marking by allocation per millisecond, so a run slowed by other
// jobs collects at other times: one hand-written page read 545.7k and 591.0k
// instructions per request in two runs. `--predictable-gc-schedule` alone
// settled Fastify (552,257 and 552,562 with four valgrind jobs on two cores)
// but not Express (the module's resource: 879k and 967k); `--predictable`
// gave Express's bare resource 680,965 and 681,077 under the same load.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { type CallgrindJob, underCallgrind } from './callgrind';
import {
  type Adapter,
  DECOMPOSED,
  PER_REQUEST_SCENARIOS,
  SELECTED_ADAPTERS,
  type Subject,
} from './scenarios';

const WARMUP_REQUESTS = Number(process.env.BENCH_WARMUP ?? 30_000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 5_000);
const JOBS = Number(process.env.BENCH_JOBS ?? cpus().length);
/**
 * The counted requests are split into windows, each dumped on its own
 * (callgrind zeroes its counters at a dump), to show how much garbage
 * collection moves a count. The figure stays all counted requests'
 * instructions over their number: on Express, 2,000-request windows of one
 * run read 697k to 873k per request (the collector's incremental steps land
 * unevenly), and the median window of two runs of the same build differed
 * by 12% where their means differed by 6%. Long windows, not a statistic,
 * are what settles an Express count. The lowest window is the count with
 * the least collection in it: the module's Express 401 read 697.5k, 697.9k
 * and 697.8k in three runs (the "low mode" of earlier single windows).
 */
const WINDOWS = Math.max(1, Number(process.env.BENCH_WINDOWS ?? 5));
/**
 * Counts per cell. Some Express counts fall in one of two modes about 9%
 * apart (the module's 401 counted four times: 698.3k, 698.3k, 758.7k,
 * 764.9k), whether a mark-compact collection lands in the counted window or
 * not (docs/performance.md), so a single Express count is read to ±10%.
 * Repeated, the table keeps the lowest count and the JSON every count: a
 * median would pick whichever mode came up more often.
 */
const REPEAT = Math.max(1, Number(process.env.BENCH_REPEAT ?? 1));
/**
 * `throttled-429` is left out too unless named: @nestjs/throttler's default
 * store keeps a timestamp per hit, blocked hits included, for the 60 s
 * window, and under valgrind a window holds thousands of hits, so its count
 * depends on how fast the run goes (the module's 429 read 150k in one run
 * and 193k in the next, where every other scenario moved by under 3%). Name it with `BENCH_THROTTLER_STORE=fixed-window`, which gives the
 * module subject the module's constant-cost store (the others keep the
 * default, so compare the module with itself there).
 */
const MEASURED_SCENARIOS = process.env.BENCH_SCENARIOS
  ? PER_REQUEST_SCENARIOS
  : PER_REQUEST_SCENARIOS.filter(({ name }) => name !== 'throttled-429');
const SUBJECTS = (process.env.BENCH_SUBJECTS?.split(',') ?? [
  'bare',
  'bare-contract',
  'module',
  'peer',
]) as Exclude<Subject, 'raw'>[];
const RESULTS = join(
  __dirname,
  '..',
  '..',
  '..',
  'bench',
  'instructions-results.json',
);

interface InstructionRow {
  scenario: string;
  adapter: Adapter;
  subject: Subject;
  /** Instructions per request over every counted request (the lowest of `counts`). */
  instructions: number;
  /** Each window's instructions per request, in order. */
  windows: number[];
  /** The lowest window: the least garbage collection a window held. */
  floor: number;
  /** Each count, lowest first, when the cell was counted more than once (`BENCH_REPEAT`). */
  counts?: number[];
  warmup: number;
  requests: number;
  status: number;
}

type Job = CallgrindJob;

async function measure(job: Job): Promise<InstructionRow> {
  const perWindow = Math.max(1, Math.round(REQUESTS / WINDOWS));
  const { result: totals, status } = await underCallgrind(
    job,
    {
      warmup: WARMUP_REQUESTS,
      requests: perWindow,
      windows: WINDOWS,
      nodeFlags: ['--predictable'],
    },
    (dumps) =>
      dumps
        .map((file) => readFileSync(file, 'utf8'))
        .map((text) => Number(/^summary: (\d+)/m.exec(text)?.[1] ?? 0)),
  );
  if (totals.length !== WINDOWS || totals.some((total) => !total))
    throw new Error(`missing callgrind dumps for ${job.subject}`);
  const windows = totals.map((total) => Math.round(total / perWindow));
  const total = totals.reduce((a, b) => a + b, 0);
  return {
    scenario: job.scenario.name,
    adapter: job.adapter,
    subject: job.subject,
    instructions: Math.round(total / (perWindow * WINDOWS)),
    windows,
    floor: Math.min(...windows),
    warmup: WARMUP_REQUESTS,
    requests: perWindow * WINDOWS,
    status,
  };
}

/** One row per cell: the lowest of its counts, and all of them. */
function mergeRepeats(rows: readonly InstructionRow[]): InstructionRow[] {
  const cells = new Map<string, InstructionRow[]>();
  for (const row of rows) {
    const key = `${row.adapter} ${row.scenario} ${row.subject}`;
    cells.set(key, [...(cells.get(key) ?? []), row]);
  }
  return [...cells.values()].map((repeats) => {
    if (repeats.length === 1) return repeats[0];
    const counts = repeats.map((row) => row.instructions).sort((a, b) => a - b);
    return {
      ...repeats[0],
      instructions: counts[0],
      counts,
    };
  });
}

function table(rows: readonly InstructionRow[]): string {
  const rowOf = (scenario: string, adapter: Adapter, subject: Subject) =>
    rows.find(
      (row) =>
        row.scenario === scenario &&
        row.adapter === adapter &&
        row.subject === subject,
    );
  const of = (scenario: string, adapter: Adapter, subject: Subject) =>
    rowOf(scenario, adapter, subject)?.instructions;
  const thousands = (value?: number) =>
    value === undefined ? '–' : `${(value / 1000).toFixed(1)}k`;
  const ratio = (baseline?: number, module?: number) =>
    baseline && module ? (baseline / module).toFixed(2) : '–';
  const lines = [
    '| scenario | adapter | status | bare | bare-contract | module | peer | bare/module | peer/module |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const adapter of SELECTED_ADAPTERS) {
    for (const { name } of MEASURED_SCENARIOS) {
      const module = of(name, adapter, 'module');
      const bare = of(name, adapter, 'bare');
      const peer = of(name, adapter, 'peer');
      const status = rowOf(name, adapter, 'module')?.status;
      const contract = DECOMPOSED.includes(name)
        ? thousands(of(name, adapter, 'bare-contract'))
        : '–';
      lines.push(
        `| ${name} | ${adapter} | ${status ?? '–'} | ${thousands(bare)} | ${contract} | ${thousands(module)} | ${thousands(peer)} | ${ratio(bare, module)} | ${ratio(peer, module)} |`,
      );
    }
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  if (spawnSync('valgrind', ['--version']).status !== 0) {
    console.error(
      'bench:instructions needs valgrind (Debian/Ubuntu: apt-get install valgrind).',
    );
    process.exit(1);
  }
  const jobs: Job[] = [];
  for (let repeat = 0; repeat < REPEAT; repeat++)
    for (const adapter of SELECTED_ADAPTERS)
      for (const scenario of MEASURED_SCENARIOS)
        for (const subject of SUBJECTS)
          if (subject !== 'bare-contract' || DECOMPOSED.includes(scenario.name))
            jobs.push({ scenario, adapter, subject });
  const began = Date.now();
  console.log(
    `bench:instructions: ${jobs.length} measurements (${REPEAT} per cell), ${JOBS} at a time, ${WARMUP_REQUESTS} warm-up + ${REQUESTS} counted requests each, in ${WINDOWS} windows`,
  );
  const rows: InstructionRow[] = [];
  let next = 0;
  // valgrind runs one process on one core: a job per core.
  await Promise.all(
    Array.from({ length: Math.min(JOBS, jobs.length) }, async () => {
      while (next < jobs.length) {
        const job = jobs[next++];
        const row = await measure(job);
        rows.push(row);
        console.log(
          `  ${row.scenario} ${row.adapter} ${row.subject}: ${row.instructions} instructions/request (status ${row.status}; windows ${row.windows.join(', ')}; floor ${row.floor})`,
        );
      }
    }),
  );
  const merged = mergeRepeats(rows);
  writeFileSync(RESULTS, `${JSON.stringify(merged, null, 2)}\n`);
  console.log(`\n${table(merged)}\n`);
  console.log(
    `${Math.round((Date.now() - began) / 1000)} s; figures in ${RESULTS}`,
  );
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

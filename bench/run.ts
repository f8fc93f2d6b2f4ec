// `npm run bench`: every scenario on Express and Fastify, each subject measured
// side by side (alternating, several rounds, medians), then a memory check.
import autocannon from 'autocannon';
import { writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { cpus } from 'node:os';
import { join } from 'node:path';
import {
  type Adapter,
  checkStatuses,
  DECOMPOSED,
  SCENARIOS,
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
  send,
  spreadOf,
  start,
  stop,
} from './subjects';
import {
  HEAP_NOISE_BYTES,
  memoryVerdictOf,
  targetOf,
  type Verdict,
  verdictOf,
} from './targets';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
// autocannon reports per-second samples, and a shorter duration still runs
// for a full second (measured: `duration: 0.4` took 1,039 ms and counted a
// whole second of requests), so one second is the shortest honest window.
const DURATION_S = Number(process.env.BENCH_DURATION ?? 1);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
/**
 * raw is measured in the first round only. It is the machine's ceiling, no
 * ratio that a target reads, and at 40k–90k req/s autocannon's own core is
 * what limits it, so more rounds would not make it truer; its two other
 * rounds were 32 s of a run that must finish within 5 minutes (measured:
 * 330 s in all on a slow day).
 */
const RAW_ROUNDS = 1;
/**
 * Requests each subject answers, unmeasured, before a scenario's rounds: the
 * first round of a scenario otherwise also pays for compiling its code path.
 */
const WARMUP_REQUESTS = Number(process.env.BENCH_WARMUP ?? 2_000);
/** `BENCH_ADAPTERS` and `BENCH_SCENARIOS` (comma-separated) narrow a run; the memory check keeps the whole mix. */
const ADAPTERS: readonly Adapter[] = SELECTED_ADAPTERS;
const MEASURED_SCENARIOS: readonly Scenario[] = SCENARIOS.filter(
  ({ name }) => process.env.BENCH_SCENARIOS?.split(',').includes(name) ?? true,
);
/**
 * `BENCH_DECOMPOSE=1` adds `bare-contract`, the contract's bytes sent by
 * hand, to the scenarios of DECOMPOSED. Off by default: its rounds and
 * warm-ups were about 28 s of a run that must fit in 5 minutes, and
 * `bench:instructions`, which always includes it, gives the steadier
 * decomposition.
 */
const DECOMPOSE = process.env.BENCH_DECOMPOSE === '1';
const decomposed = (scenario: Scenario) =>
  DECOMPOSE && DECOMPOSED.includes(scenario.name);
const RESULTS = join(__dirname, '..', '..', '..', 'bench', 'results.json');
interface Row {
  scenario: string;
  adapter: Adapter;
  subject: Subject;
  baseline: Subject;
  rps: number;
  baselineRps: number;
  ratio: number;
  p99Ms: number;
  baselineP99Ms: number;
  /** (max − min) / median of the subject's and the baseline's rounds: how far to trust the ratio; null for raw's single round. */
  spread: number | null;
  baselineSpread: number | null;
  /** CPU time (user + system) of the server process per request, in µs; null where /proc is missing. */
  cpuUs: number | null;
  baselineCpuUs: number | null;
  /** The ratio of each round (subject and baseline measured in the same round); null for raw. */
  roundRatios: number[] | null;
  /** The ratio a target of the benchmark issue asks for (bench/targets.ts), null where none reads the row. */
  target: number | null;
  /** Whether every round met the target, none did, or they disagree; null without a target. */
  verdict: Verdict | null;
}

/**
 * Plain keep-alive requests, CONNECTIONS at a time: autocannon runs for at
 * least a second whatever `amount` asks, which made the warm-up a fifth of
 * the whole run (325 s in all against 253 s without it, measured).
 */
async function warmUp(running: Running, scenario: Scenario): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  let left = WARMUP_REQUESTS;
  const client = async () => {
    while (left-- > 0) await send(running, scenario, agent);
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, client));
  agent.destroy();
}

async function measure(
  label: string,
  running: Running,
  scenario: Scenario,
): Promise<{ rps: number; p99: number; cpuUs: number | undefined }> {
  const { url } = running;
  const cpuBefore = cpuMs(running.child.pid);
  const result = await autocannon({
    url: `${url}${scenario.path}`,
    method: scenario.method,
    headers: scenario.headers,
    body: scenario.body,
    connections: CONNECTIONS,
    duration: DURATION_S,
  });
  const cpuAfter = cpuMs(running.child.pid);
  checkStatuses(
    label,
    scenario,
    result.statusCodeStats,
    result.errors, // autocannon counts timeouts among its errors
  );
  const cpuUs =
    cpuBefore === undefined || cpuAfter === undefined || !result.requests.total
      ? undefined
      : ((cpuAfter - cpuBefore) * 1000) / result.requests.total;
  return { rps: result.requests.average, p99: result.latency.p99, cpuUs };
}

/** The module's responses, recorded so raw node:http can send the same bytes. */
async function record(url: string) {
  const recorded: Record<
    string,
    { status: number; headers: Record<string, string>; body: string }
  > = {};
  for (const scenario of SCENARIOS) {
    let response: Response | undefined;
    for (let i = 0; i < 2; i++) {
      response = await fetch(`${url}${scenario.path}`, {
        method: scenario.method,
        headers: scenario.headers,
        body: scenario.body,
      });
    }
    const headers: Record<string, string> = {};
    response!.headers.forEach((value, name) => {
      if (
        ![
          'date',
          'connection',
          'keep-alive',
          'content-length',
          'transfer-encoding',
        ].includes(name)
      )
        headers[name] = value;
    });
    recorded[`${scenario.method} ${scenario.path}`] = {
      status: response!.status,
      headers,
      body: await response!.text(),
    };
  }
  return recorded;
}

/** What the server reports after a forced GC; `external`: Buffers and other memory outside V8's heap. */
type MemoryUsage = Pick<NodeJS.MemoryUsage, 'rss' | 'heapUsed' | 'external'>;

async function memory(running: Running): Promise<MemoryUsage> {
  running.child.send('memory');
  return new Promise((resolve) =>
    running.child.once('message', (message: MemoryUsage) => resolve(message)),
  );
}

async function load(url: string, amount: number): Promise<void> {
  await autocannon({
    url,
    connections: CONNECTIONS * 2,
    amount,
    requests: SCENARIOS.map(({ method, path, headers, body }) => ({
      method,
      path,
      headers,
      body,
    })),
  });
}

async function main(): Promise<void> {
  const startedAt = Date.now();
  // Each server on core 0, this process (autocannon) on core 1: the client no
  // longer takes CPU from the server it measures, nor the servers from each
  // other. Without taskset or a second core the run goes on unpinned.
  const pinned = cpus().length >= 2 && canPin();
  if (pinned) pin('1');
  else
    process.stderr.write(
      'bench: taskset or a second core is missing; the servers and the load generator are not pinned\n',
    );
  const rows: Row[] = [];
  const modules = new Map<Adapter, Running>();
  /** Where the throughput phase's time goes, in ms: said at the end. */
  const spent = { starting: 0, warmUp: 0, rounds: 0 };
  for (const adapter of ADAPTERS) {
    let since = Date.now();
    // Started side by side on both cores, then pinned: booting Nest is about
    // a second of CPU per subject, and nothing is measured yet.
    const booted: Subject[] = ['bare', 'module', 'peer'];
    if (DECOMPOSE) booted.push('bare-contract');
    const subjects: Partial<Record<Subject, Running>> = {};
    await Promise.all(
      booted.map(async (subject) => {
        subjects[subject] = await start(subject, adapter);
      }),
    );
    subjects.raw = await start('raw', adapter, {
      recorded: await record(subjects.module!.url),
    });
    if (pinned) {
      for (const running of Object.values(subjects))
        pin('0', running.child.pid);
    }
    spent.starting += Date.now() - since;
    for (const scenario of MEASURED_SCENARIOS) {
      const order: Subject[] = [
        'raw',
        'bare',
        'module',
        'peer',
        ...(decomposed(scenario) ? (['bare-contract'] as const) : []),
      ];
      const samples: Record<
        string,
        { rps: number[]; p99: number[]; cpu: number[] }
      > = {};
      since = Date.now();
      // Nothing is measured yet: the subjects warm up side by side on both
      // cores, then go back to core 0. raw's few lines need no warming.
      const warmed = order
        .filter((subject) => subject !== 'raw')
        .map((subject) => subjects[subject]!);
      if (pinned) for (const running of warmed) pin('0,1', running.child.pid);
      await Promise.all(warmed.map((running) => warmUp(running, scenario)));
      if (pinned) for (const running of warmed) pin('0', running.child.pid);
      spent.warmUp += Date.now() - since;
      since = Date.now();
      for (let round = 0; round < ROUNDS; round++) {
        // Rotate who goes first, so no subject always meets a warmer machine.
        for (let i = 0; i < order.length; i++) {
          const subject = order[(i + round) % order.length];
          if (subject === 'raw' && round >= RAW_ROUNDS) continue;
          const { rps, p99, cpuUs } = await measure(
            `${adapter} ${subject}`,
            subjects[subject]!,
            scenario,
          );
          const sample = (samples[subject] ??= { rps: [], p99: [], cpu: [] });
          sample.rps.push(rps);
          sample.p99.push(p99);
          if (cpuUs !== undefined) sample.cpu.push(cpuUs);
        }
      }
      spent.rounds += Date.now() - since;
      const result = (subject: Subject) => {
        const rps = samples[subject].rps;
        return {
          rps: median(rps),
          p99: median(samples[subject].p99),
          cpuUs: samples[subject].cpu.length
            ? Math.round(median(samples[subject].cpu) * 10) / 10
            : null,
          spread: rps.length > 1 ? spreadOf(rps) : null,
        };
      };
      const row = (subject: Subject, baseline: Subject): Row => {
        // raw has one round: no ratio per round, and no target reads it.
        const roundRatios =
          subject === 'raw'
            ? null
            : samples[subject].rps.map(
                (rps, round) =>
                  Math.round((rps / samples[baseline].rps[round]) * 100) / 100,
              );
        const target = targetOf({ kind: scenario.kind, subject, baseline });
        return {
          scenario: scenario.name,
          adapter,
          subject,
          baseline,
          rps: Math.round(result(subject).rps),
          baselineRps: Math.round(result(baseline).rps),
          ratio:
            Math.round((result(subject).rps / result(baseline).rps) * 100) /
            100,
          p99Ms: result(subject).p99,
          baselineP99Ms: result(baseline).p99,
          spread: result(subject).spread,
          baselineSpread: result(baseline).spread,
          cpuUs: result(subject).cpuUs,
          baselineCpuUs: result(baseline).cpuUs,
          roundRatios,
          target,
          verdict:
            target === null || roundRatios === null
              ? null
              : verdictOf(target, roundRatios),
        };
      };
      rows.push(row('raw', 'bare'), row('module', 'bare'), row('peer', 'bare'));
      if (scenario.kind === 'error') rows.push(row('module', 'peer'));
      if (decomposed(scenario)) {
        rows.push(row('bare-contract', 'bare'), row('module', 'bare-contract'));
      }
      process.stderr.write(
        `${adapter} ${scenario.name}: module ${rows.find((r) => r.scenario === scenario.name && r.adapter === adapter && r.subject === 'module')!.rps} req/s\n`,
      );
    }
    // The module's server stays up for the memory check; the others go.
    for (const [subject, running] of Object.entries(subjects)) {
      if (subject === 'module') modules.set(adapter, running);
      else await stop(running);
    }
  }

  // Memory: the mixed scenarios, 20k requests, then 180k more. Both adapters
  // at once: each server is the bottleneck of its own load, so running them
  // side by side shortens the run (6 min 8 s → 5 min 31 s in all, measured)
  // and changes no figure (heap after GC).
  // Unpinned again: the two servers and their loads share both cores.
  // (Express alone on core 0, the rest on core 1, took 79 s against 68 s
  // unpinned, measured: its collector's helper threads lost the other core.)
  if (pinned) {
    pin('0,1');
    for (const running of modules.values()) pin('0,1', running.child.pid);
  }
  const memoryStartedAt = Date.now();
  const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
  const memoryRows = await Promise.all(
    [...modules].map(async ([adapter, running]) => {
      await load(running.url, 20_000);
      const after20k = await memory(running);
      await load(running.url, 180_000);
      const after200k = await memory(running);
      await stop(running);
      const verdict = memoryVerdictOf({
        after20k: after20k.heapUsed,
        after200k: after200k.heapUsed,
      });
      return `| ${adapter} | ${mb(after20k.rss)} | ${mb(after200k.rss)} | ${mb(after20k.heapUsed)} | ${mb(after200k.heapUsed)} | ${mb(after20k.external)} | ${mb(after200k.external)} | ${verdict} |`;
    }),
  );

  const seconds = (ms: number) => Math.round(ms / 1000);
  const percent = (spread: number | null) =>
    spread === null ? '–' : `${Math.round(spread * 100)}%`;
  const phases = `throughput ${seconds(memoryStartedAt - startedAt)} s: starting ${seconds(spent.starting)} s, warm-up ${seconds(spent.warmUp)} s, rounds ${seconds(spent.rounds)} s; memory ${seconds(Date.now() - memoryStartedAt)} s`;
  writeFileSync(RESULTS, `${JSON.stringify(rows, null, 2)}\n`);
  const targets = rows.filter((r) => r.verdict !== null);
  const count = (verdict: Verdict) =>
    targets.filter((r) => r.verdict === verdict).length;
  const lines = [
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}; ${pinned ? 'each server on core 0, autocannon on core 1' : 'not pinned'}; ${WARMUP_REQUESTS} warm-up requests, then ${ROUNDS} rounds × ${DURATION_S} s per subject (raw: ${RAW_ROUNDS}), ${CONNECTIONS} connections, medians.`,
    '',
    '| scenario | adapter | subject | vs | req/s | baseline req/s | ratio | p99 ms | baseline p99 ms | spread | CPU µs/req | baseline CPU µs/req |',
    '| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.scenario} | ${r.adapter} | ${r.subject} | ${r.baseline} | ${r.rps} | ${r.baselineRps} | ${r.ratio.toFixed(2)} | ${r.p99Ms} | ${r.baselineP99Ms} | ${percent(r.spread)} / ${percent(r.baselineSpread)} | ${r.cpuUs ?? '–'} | ${r.baselineCpuUs ?? '–'} |`,
    ),
    '',
    `Targets of the benchmark issue: ${count('met')} met, ${count('missed')} missed, ${count('unclear')} unclear (the rounds disagree) of ${targets.length}. A verdict needs every round on the same side of the target.`,
    '',
    '| scenario | adapter | vs | target | ratio | rounds | verdict |',
    '| --- | --- | --- | ---: | ---: | --- | --- |',
    ...targets.map(
      (r) =>
        `| ${r.scenario} | ${r.adapter} | ${r.baseline} | ${r.target!.toFixed(2)} | ${r.ratio.toFixed(2)} | ${r.roundRatios!.map((ratio) => ratio.toFixed(2)).join(', ')} | ${r.verdict} |`,
    ),
    '',
    `| memory (module, after GC) | RSS MB after 20k | RSS MB after 200k | heap MB after 20k | heap MB after 200k | external MB after 20k | external MB after 200k | verdict (heap growth ≤ ${mb(HEAP_NOISE_BYTES)} MB) |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...memoryRows,
    '',
    `Finished in ${Math.round((Date.now() - startedAt) / 1000)} s (${phases}). Figures also in bench/results.json.`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${String(error)}\n`);
  process.exit(1);
});

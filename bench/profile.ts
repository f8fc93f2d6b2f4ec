// `npm run bench:profile`: where one subject's instructions per request go,
// function by function, beside another subject's: the tool behind the
// "found" lines of docs/performance.md. Each server runs under callgrind as
// in `bench:instructions`; Node's `--perf-basic-prof` writes
// /tmp/perf-<pid>.map, which names the addresses of JIT-compiled JavaScript
// that callgrind only knows as numbers. No `--predictable` here: with it and
// the perf map together one profile read twice the instructions of every
// other run (the module's Fastify resource, 264k against ~127k), so the
// totals of this tool are for attribution only; bench:instructions gives
// the figures.
//
//   BENCH_ADAPTERS=fastify BENCH_SCENARIOS=hal-page \
//   BENCH_SUBJECTS=module,bare-contract npm run bench:profile
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';
import { underCallgrind } from './callgrind';
import { SCENARIOS, SELECTED_ADAPTERS, type Subject } from './scenarios';

const WARMUP_REQUESTS = Number(process.env.BENCH_WARMUP ?? 15_000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 2_000);
const TOP = Number(process.env.BENCH_TOP ?? 40);
const SUBJECTS = (process.env.BENCH_SUBJECTS ?? 'module,bare-contract').split(
  ',',
) as Exclude<Subject, 'raw'>[];
const SCENARIO_NAMES = (process.env.BENCH_SCENARIOS ?? 'hal-resource').split(
  ',',
);
/** The repository's root: paths are shown relative to it. */
const ROOT = join(__dirname, '..', '..', '..');

type Profile = Map<string, number>;

/** [start, size, name] of each code object in a perf map, sorted by start. */
function readPerfMap(pid: number): [number, number, string][] {
  const file = `/tmp/perf-${pid}.map`;
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .map((line) => /^([0-9a-f]+) ([0-9a-f]+) (.*)$/.exec(line))
      .filter((match) => match !== null)
      .map(
        ([, start, size, name]) =>
          [parseInt(start, 16), parseInt(size, 16), name] as [
            number,
            number,
            string,
          ],
      )
      .sort((a, b) => a[0] - b[0]);
  } finally {
    rmSync(file, { force: true });
  }
}

function nameAt(
  entries: readonly [number, number, string][],
  address: number,
): string | undefined {
  let low = 0;
  let high = entries.length - 1;
  let found: [number, number, string] | undefined;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (entries[middle][0] <= address) {
      found = entries[middle];
      low = middle + 1;
    } else high = middle - 1;
  }
  return found && address < found[0] + found[1] ? found[2] : undefined;
}

/** One name per function: paths from the repository, no tier marks or columns. */
function normalize(name: string): string {
  return name
    .replace(/^JS:[*~^+]?/, 'JS ')
    .replace(/file:\/\//g, '')
    .split(`${ROOT}${sep}`)
    .join('')
    .replace(/dist\/bench\//g, '')
    .replace(/node_modules\//g, '')
    .replace(/:\d+:\d+$/, '')
    .replace(/^\?\?\?:/, '')
    .replace(/ \[[^\]]*\]$/, '');
}

/** Self instructions per request of each function, from callgrind_annotate. */
function profileOf(dumps: readonly string[], pid: number): Profile {
  const entries = readPerfMap(pid);
  // The main thread's dump is the largest; helper threads count little.
  const dump = [...dumps].sort(
    (a, b) => statSync(b).size - statSync(a).size,
  )[0];
  const text = execFileSync(
    'callgrind_annotate',
    ['--inclusive=no', '--threshold=100', dump],
    { maxBuffer: 1 << 28 },
  ).toString();
  const profile: Profile = new Map();
  for (const line of text.split('\n')) {
    const match = /^\s*([\d,]+) \([^)]*\)\s+(.*)$/.exec(line);
    if (!match || match[2].includes('PROGRAM TOTALS')) continue;
    const count = Number(match[1].replace(/,/g, ''));
    let name = match[2];
    const address = /^(?:\?\?\?:)?0x([0-9a-f]+)/.exec(name);
    if (address)
      name = nameAt(entries, parseInt(address[1], 16)) ?? `JIT ${name}`;
    const key = normalize(name);
    profile.set(key, (profile.get(key) ?? 0) + count / REQUESTS);
  }
  return profile;
}

const total = (profile: Profile) =>
  [...profile.values()].reduce((a, b) => a + b, 0);
const whole = (value: number) => Math.round(value).toLocaleString('en-US');

function report(title: string, profiles: Profile[]): string {
  const lines = [
    `### ${title}`,
    '',
    SUBJECTS.map(
      (subject, i) =>
        `${subject}: ${whole(total(profiles[i]))} instructions per request`,
    ).join('; '),
    '',
  ];
  const names = new Set(profiles.flatMap((profile) => [...profile.keys()]));
  const of = (profile: Profile, name: string) => profile.get(name) ?? 0;
  if (profiles.length === 1) {
    lines.push('| self | function |', '| ---: | --- |');
    for (const name of [...names]
      .sort((a, b) => of(profiles[0], b) - of(profiles[0], a))
      .slice(0, TOP))
      lines.push(`| ${whole(of(profiles[0], name))} | \`${name}\` |`);
    return lines.join('\n');
  }
  const [a, b] = profiles;
  const difference = (name: string) => of(a, name) - of(b, name);
  lines.push(
    `| ${SUBJECTS[0]} − ${SUBJECTS[1]} | ${SUBJECTS[0]} | ${SUBJECTS[1]} | function |`,
    '| ---: | ---: | ---: | --- |',
  );
  for (const name of [...names]
    .sort((x, y) => Math.abs(difference(y)) - Math.abs(difference(x)))
    .slice(0, TOP))
    lines.push(
      `| ${whole(difference(name))} | ${whole(of(a, name))} | ${whole(of(b, name))} | \`${name}\` |`,
    );
  return lines.join('\n');
}

async function main(): Promise<void> {
  // callgrind_annotate answers --version with status 255: an error to spawn is what tells it is missing.
  for (const tool of ['valgrind', 'callgrind_annotate']) {
    if (spawnSync(tool, ['--version']).error) {
      console.error(
        `bench:profile needs ${tool} (Debian/Ubuntu: apt-get install valgrind).`,
      );
      process.exit(1);
    }
  }
  if (SUBJECTS.length > 2) {
    console.error('bench:profile compares at most two subjects');
    process.exit(1);
  }
  for (const adapter of SELECTED_ADAPTERS) {
    for (const name of SCENARIO_NAMES) {
      const scenario = SCENARIOS.find((candidate) => candidate.name === name);
      if (!scenario) throw new Error(`no scenario named ${name}`);
      // Side by side: one valgrind per core.
      const profiles = await Promise.all(
        SUBJECTS.map(async (subject) => {
          const { result } = await underCallgrind(
            { scenario, adapter, subject },
            {
              warmup: WARMUP_REQUESTS,
              requests: REQUESTS,
              nodeFlags: ['--perf-basic-prof'],
            },
            profileOf,
          );
          return result;
        }),
      );
      console.log(
        `${report(`${name} on ${adapter} (${WARMUP_REQUESTS} warm-up + ${REQUESTS} requests)`, profiles)}\n`,
      );
    }
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

// The benchmark issue's targets, judged from one run's figures: which rows a
// target reads, and whether the run says it is met, missed, or cannot tell.

/** Which comparison a results row is (see `bench/run.ts`). */
export interface Comparison {
  readonly kind: 'success' | 'error';
  readonly subject: string;
  readonly baseline: string;
}

export type Verdict = 'met' | 'missed' | 'unclear';

/**
 * The ratio the module must reach against a baseline, or null where no
 * target reads the row: success paths at least 0.95× bare Nest; error paths
 * at least 1.0× Nest's default exception filter (bare) and at least 1.0×
 * `nest-problem-details-filter` (peer). The peer's successes (halson) are a
 * comparison, not a target.
 */
export function targetOf(row: Comparison): number | null {
  if (row.subject !== 'module') return null;
  if (row.baseline === 'bare') return row.kind === 'success' ? 0.95 : 1;
  if (row.baseline === 'peer' && row.kind === 'error') return 1;
  return null;
}

/**
 * Met or missed only when every round of the run says so: the subject and
 * its baseline are measured one after the other within a round, so each
 * round gives a ratio of its own, and `unclear` means the rounds fell on
 * either side of the target. The medians alone called such rows by the
 * noise of the day: on this project's shared 2-core machine the Fastify
 * resource read 0.67 and 1.26 against bare Nest in two full runs one
 * session apart, where its instruction count says 0.85. CPU time per
 * request is no second opinion: with the server pinned and saturated it is
 * the inverse of its requests per second, and its ratio stayed within 0.05
 * of the throughput ratio in every target's row of those runs but one.
 */
export function verdictOf(
  target: number,
  roundRatios: readonly number[],
): Verdict {
  if (roundRatios.length === 0) throw new Error('no rounds to judge');
  if (roundRatios.every((ratio) => ratio >= target)) return 'met';
  if (roundRatios.every((ratio) => ratio < target)) return 'missed';
  return 'unclear';
}

/** Heap after a forced GC, in bytes, after 20k and after 200k requests. */
export interface HeapCheck {
  readonly after20k: number;
  readonly after200k: number;
}

/**
 * Growth of the heap (after a forced GC) between 20k and 200k requests that
 * still counts as noise. In the published runs the heap moved by up to
 * 0.8 MB either way over those 180k requests; a leak of 6 bytes per request
 * would add 1 MB. RSS is not judged: it moves with the allocator by tens of
 * MB from run to run (docs/performance.md).
 */
export const HEAP_NOISE_BYTES = 1024 * 1024;

export function memoryVerdictOf({ after20k, after200k }: HeapCheck): Verdict {
  return after200k - after20k <= HEAP_NOISE_BYTES ? 'met' : 'missed';
}

import {
  HEAP_NOISE_BYTES,
  memoryVerdictOf,
  targetOf,
  verdictOf,
} from './targets';

describe('targetOf', () => {
  it('asks 0.95× bare Nest of the success paths, and nothing of the peer (halson)', () => {
    expect(
      targetOf({ kind: 'success', subject: 'module', baseline: 'bare' }),
    ).toBe(0.95);
    expect(
      targetOf({ kind: 'success', subject: 'module', baseline: 'peer' }),
    ).toBeNull();
  });

  it('asks 1.0× of the error paths against both bare Nest and nest-problem-details-filter', () => {
    expect(
      targetOf({ kind: 'error', subject: 'module', baseline: 'bare' }),
    ).toBe(1);
    expect(
      targetOf({ kind: 'error', subject: 'module', baseline: 'peer' }),
    ).toBe(1);
  });

  it('reads only the module against a baseline', () => {
    for (const subject of ['raw', 'peer', 'bare-contract'])
      expect(targetOf({ kind: 'error', subject, baseline: 'bare' })).toBeNull();
    expect(
      targetOf({
        kind: 'success',
        subject: 'module',
        baseline: 'bare-contract',
      }),
    ).toBeNull();
  });
});

describe('verdictOf', () => {
  it('calls a target met or missed only when every round agrees', () => {
    expect(verdictOf(0.95, [0.95, 1.2, 0.99])).toBe('met');
    expect(verdictOf(1, [0.7, 0.99, 0.5])).toBe('missed');
  });

  it('calls it unclear when the rounds fall on either side, whatever the median', () => {
    expect(verdictOf(0.95, [0.94, 1.3, 1.26])).toBe('unclear');
    expect(verdictOf(1, [0.6, 0.7, 1])).toBe('unclear');
  });

  it('refuses to judge without a round', () => {
    expect(() => verdictOf(1, [])).toThrow('no rounds');
  });
});

describe('memoryVerdictOf', () => {
  const mb = 1024 * 1024;

  it('counts growth of the heap up to the noise as none, and a fall as none', () => {
    expect(
      memoryVerdictOf({
        after20k: 25 * mb,
        after200k: 25 * mb + HEAP_NOISE_BYTES,
      }),
    ).toBe('met');
    expect(memoryVerdictOf({ after20k: 27.4 * mb, after200k: 26.6 * mb })).toBe(
      'met',
    );
  });

  it('calls more growth missed', () => {
    expect(
      memoryVerdictOf({
        after20k: 25 * mb,
        after200k: 25 * mb + HEAP_NOISE_BYTES + 1,
      }),
    ).toBe('missed');
  });
});

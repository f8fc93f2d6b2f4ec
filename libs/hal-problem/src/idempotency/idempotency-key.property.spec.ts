import fc from 'fast-check';
import { parseIdempotencyKey } from './idempotency-key';

/** The sf-string parse by the general expression alone (before the plain fast path). */
function reference(header: string, maxLength: number): string | undefined {
  const value = header.trim();
  const quoted = /^"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"$/.exec(value);
  const key = quoted
    ? quoted[1].replace(/\\(["\\])/g, '$1')
    : /^[A-Za-z0-9!#$%&'*+.^_`|~:/=-]+$/.test(value)
      ? value
      : undefined;
  if (key === undefined || key.length === 0 || key.length > maxLength)
    return undefined;
  return key;
}

describe('parseIdempotencyKey (property)', () => {
  it('reads every header as the general sf-string parse does', () => {
    const text = fc.string({
      unit: fc.oneof(
        fc.constantFrom('"', '\\', ' ', 'a', '-', '~', '\t', 'é'),
        fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
      ),
      maxLength: 20,
    });
    const header = fc.oneof(
      text,
      text.map((inner) => `"${inner}"`),
      text.map((inner) => ` "${inner}" `),
    );
    fc.assert(
      fc.property(header, fc.integer({ min: 1, max: 25 }), (value, max) => {
        expect(parseIdempotencyKey(value, max)).toBe(reference(value, max));
      }),
      { numRuns: 3000 },
    );
  });
});

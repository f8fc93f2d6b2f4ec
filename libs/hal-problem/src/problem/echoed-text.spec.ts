import { shortened } from './echoed-text';

describe('shortened', () => {
  it('keeps text up to the limit, and cuts what is longer with …', () => {
    expect(shortened('a'.repeat(4), 4)).toBe('aaaa');
    expect(shortened('a'.repeat(5), 4)).toBe('aaaa…');
  });

  it('never splits a surrogate pair at the cut', () => {
    // 😀 is two UTF-16 units; the limit falls between them.
    const cut = shortened(`aaa${'😀'}b`, 4);
    expect(cut).toBe('aaa…');
    expect(JSON.stringify(cut)).not.toMatch(/\\u/);
    expect(shortened(`aa${'😀'}b`, 4)).toBe(`aa${'😀'}…`);
  });
});

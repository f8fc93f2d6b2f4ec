import { jsonNestsDeeperThan } from './body-parsing';

describe('jsonNestsDeeperThan', () => {
  const bytes = (text: string) => Buffer.from(text);

  it('counts arrays and objects', () => {
    expect(jsonNestsDeeperThan(bytes('[[[]]]'), 3)).toBe(false);
    expect(jsonNestsDeeperThan(bytes('[[[[]]]]'), 3)).toBe(true);
    expect(jsonNestsDeeperThan(bytes('{"a":{"b":{"c":{}}}}'), 3)).toBe(true);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    expect(jsonNestsDeeperThan(bytes('{"a":"[[[[[[\\"[[[[["}'), 1)).toBe(false);
  });

  it('is not fooled by siblings', () => {
    expect(jsonNestsDeeperThan(bytes('[[],[],[],[]]'), 2)).toBe(false);
  });
});

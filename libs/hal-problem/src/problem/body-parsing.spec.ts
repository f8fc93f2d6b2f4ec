import { hasPoisonedKeys, jsonNestsDeeperThan } from './body-parsing';

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

describe('hasPoisonedKeys', () => {
  const poisoned = (text: string) => hasPoisonedKeys(Buffer.from(text));

  it('finds a __proto__ key or a constructor.prototype at any depth', () => {
    expect(poisoned('{"__proto__":1}')).toBe(true);
    expect(poisoned('{"a":[[{"__proto__":null}]]}')).toBe(true);
    expect(poisoned('[{"constructor":{"prototype":{}}}]')).toBe(true);
    expect(poisoned('{"constructor":{"constructor":{"prototype":0}}}')).toBe(
      true,
    );
  });

  it('finds them spelled with JSON escapes, as secure-json-parse does', () => {
    expect(poisoned('{"\\u005f_proto__":1}')).toBe(true);
    expect(poisoned('{"__proto\\u005F_":{}}')).toBe(true);
    expect(poisoned('{"\\u0063onstructor":{"prototype":{}}}')).toBe(true);
    expect(poisoned('{"constructor":{"\\u0070rototype":{}}}')).toBe(true);
    expect(poisoned('{"caf\\u00e9":"ok"}')).toBe(false);
  });

  it('lets the words through as values, and a constructor without prototype', () => {
    expect(poisoned('["__proto__","constructor"]')).toBe(false);
    expect(poisoned('{"constructor":1,"prototype":{"constructor":[]}}')).toBe(
      false,
    );
    // The last of a repeated key is the one parsed.
    expect(poisoned('{"constructor":{"prototype":1},"constructor":1}')).toBe(
      false,
    );
    expect(poisoned('{"__proto__":')).toBe(false); // malformed: the parser's
  });

  it('reads a 100 kB body that names them once, to its last member', () => {
    // A reviver called for each of its 51,000 values took 13-20 ms.
    const ones = Array<string>(51_000).fill('1').join(',');
    expect(poisoned(`["constructor",${ones}]`)).toBe(false);
    expect(poisoned(`[${ones},{"a":[{"constructor":{"prototype":{}}}]}]`)).toBe(
      true,
    );
  });
});

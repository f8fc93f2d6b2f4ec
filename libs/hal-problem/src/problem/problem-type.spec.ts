import { declaredProblemTypes, defineProblemType } from './problem-type';

describe('defineProblemType', () => {
  it('declares a type once and lists it', () => {
    const type = defineProblemType({
      slug: 'spec-conflict',
      title: 'Conflict in spec',
      status: 409,
    });
    expect(Object.isFrozen(type)).toBe(true);
    expect(declaredProblemTypes()).toContain(type);
    expect(
      defineProblemType({
        slug: 'spec-conflict',
        title: 'Conflict in spec',
        status: 409,
      }),
    ).toBe(type);
  });

  it('refuses a different declaration under the same slug', () => {
    defineProblemType({ slug: 'spec-twice', title: 'One', status: 409 });
    expect(() =>
      defineProblemType({ slug: 'spec-twice', title: 'Two', status: 409 }),
    ).toThrow(/already declared/);
  });

  it.each([
    [{ slug: 'Bad Slug', title: 't', status: 400 }, /slug/],
    [{ slug: 'ok', title: 't', status: 200 }, /4xx or 5xx/],
    [
      { slug: 'ok2', title: 't', status: 400, uri: '/relative' },
      /absolute URI/,
    ],
    [{ slug: 'ok3', title: ' ', status: 400 }, /title/],
  ])('refuses %j', (definition, message) => {
    expect(() => defineProblemType(definition)).toThrow(message);
  });
});

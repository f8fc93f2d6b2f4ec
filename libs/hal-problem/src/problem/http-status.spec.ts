import { reasonPhrase } from './http-status';

describe('reasonPhrase', () => {
  it.each([
    [413, 'Content Too Large'],
    [422, 'Unprocessable Content'],
    [510, 'Not Extended'],
  ])('gives RFC 9110 phrase of %i', (status, phrase) => {
    expect(reasonPhrase(status)).toBe(phrase);
  });

  it.each([
    [456, 'Client Error'],
    [499, 'Client Error'],
    [599, 'Server Error'],
  ])(
    'names the class of %i, which has no phrase, not another status',
    (status, phrase) => {
      expect(reasonPhrase(status)).toBe(phrase);
    },
  );
});

import { withVary } from './vary';

describe('withVary', () => {
  it('is the added value when nothing varies yet', () => {
    expect(withVary(undefined, 'Accept-Language')).toBe('Accept-Language');
    expect(withVary('', 'Accept')).toBe('Accept');
    expect(withVary(['Origin'], 'Accept')).toBe('Accept');
  });

  it('appends what is not listed, keeping what is', () => {
    expect(withVary('Origin', 'Accept-Language')).toBe(
      'Origin, Accept-Language',
    );
    expect(withVary('Origin, Accept', 'accept, Authorization')).toBe(
      'Origin, Accept, Authorization',
    );
    expect(withVary('Origin', 'ORIGIN')).toBe('Origin');
    expect(withVary('Origin', 'Accept, , Accept')).toBe('Origin, Accept');
  });

  it('keeps a * alone', () => {
    expect(withVary('*', 'Accept')).toBe('*');
    expect(withVary('Origin, *', 'Accept')).toBe('Origin, *');
    expect(withVary('Origin', '*')).toBe('*');
  });
});

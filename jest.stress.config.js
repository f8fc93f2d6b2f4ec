// `npm run test:stress`: the slow suites (soak), bounded in time and requests.
const base = require('./jest.config.js');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  roots: ['<rootDir>/test'],
  testRegex: '.*\\.stress-spec\\.ts$',
};

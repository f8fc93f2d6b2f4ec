// Nest 12 ships ESM; Jest on Node 20 cannot load ESM that CommonJS packages
// (e.g. @nestjs/throttler) require, so SWC compiles TypeScript and the
// ESM-only packages below to CommonJS inside Jest (content-disposition is
// required by @fastify/static, which Swagger UI uses on Fastify).
const esmPackages = [
  '@nestjs',
  '@apidevtools',
  'url-template',
  'content-disposition',
  'magic-string', // ESM-only, required by @angular-devkit/schematics (scaffolding specs)
  // mercurius (GraphQL on Fastify) loads the ESM-only quick-lru with a
  // dynamic import(), which Jest's VM refuses: compiled to a require().
  'mercurius',
  'quick-lru',
];

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  rootDir: '.',
  roots: [
    '<rootDir>/libs',
    '<rootDir>/apps',
    '<rootDir>/test',
    '<rootDir>/bench',
  ],
  testRegex: '.*\\.(spec|e2e-spec)\\.ts$',
  moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json'],
  transform: {
    '^.+\\.(t|j|mj|cj)s$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
          keepClassNames: true,
        },
        module: { type: 'commonjs' },
        sourceMaps: 'inline',
      },
    ],
  },
  // Ignore node_modules unless the path goes through one of the ESM packages,
  // nested ones included (e.g. @fastify/static/node_modules/content-disposition).
  transformIgnorePatterns: [
    `^(?!.*/node_modules/(?:${esmPackages.join('|')})/).*/node_modules/`,
  ],
  moduleNameMapper: {
    '^nestjs-hal-problem$': '<rootDir>/libs/hal-problem/src',
    '^nestjs-hal-problem/(.*)$': '<rootDir>/libs/hal-problem/src/$1',
  },
  collectCoverageFrom: ['libs/**/*.ts', 'apps/**/*.ts', '!**/*.spec.ts'],
  coverageDirectory: './coverage',
};

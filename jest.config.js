// Two projects so that `npm run test:unit` stays fast while `npm test` runs
// everything. With isolatedModules in tsconfig.json, ts-jest only
// transpiles; `npm run typecheck` checks types once for the whole tree.
const transform = {
  '^.+\\.ts$': ['ts-jest', { diagnostics: false }],
};

module.exports = {
  // Jest reads the timeout from the top level only, not per project.
  testTimeout: 30000,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      moduleFileExtensions: ['js', 'json', 'ts'],
      rootDir: '.',
      testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/simulator/**/*.spec.ts'],
      transform,
    },
    {
      displayName: 'e2e',
      testEnvironment: 'node',
      moduleFileExtensions: ['js', 'json', 'ts'],
      rootDir: '.',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      transform,
    },
  ],
};

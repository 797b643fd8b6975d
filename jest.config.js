/**
 * Two projects: `unit` runs the tests beside the logic objects (packages/*\/src/**\/*.test.ts);
 * `integration` starts real controller and broker processes from the built packages (test/).
 * Sources are compiled by swc; `pnpm test` type-checks everything with `tsc -b` first.
 */
const shared = {
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } } }] },
  moduleNameMapper: { '^@brook/([a-z-]+)$': '<rootDir>/packages/$1/src' },
  testEnvironment: 'node',
};

module.exports = {
  reporters: ['default', '<rootDir>/scripts/jest-summary-reporter.js'],
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/packages/*/src/**/*.test.ts'] },
    { ...shared, displayName: 'integration', testMatch: ['<rootDir>/test/**/*.test.ts'], slowTestThreshold: 30 },
  ],
};

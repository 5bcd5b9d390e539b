/**
 * One Jest run for unit (`*.spec.ts` beside the code) and e2e (`test/**`) tests.
 * Our TypeScript goes through ts-jest with the Swagger CLI plugin, so tests see
 * the same OpenAPI metadata as `nest build`. Nest 12 ships ES modules only; on
 * Node 20 Jest cannot require() them, so @swc/jest compiles those packages to
 * CommonJS (cached after the first run).
 */
const ESM_PACKAGES = [
  '@nestjs',
  'file-type',
  'load-esm',
  'uid',
  'strtok3',
  'token-types',
  '@tokenizer',
  'uint8array-extras',
  '@borewit',
];

module.exports = {
  rootDir: __dirname,
  testEnvironment: 'node',
  testRegex: '(src|libs|test)/.*\\.(spec|e2e-spec)\\.ts$',
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: {
    '^@app/common$': '<rootDir>/libs/common/src',
    '^@app/common/(.*)$': '<rootDir>/libs/common/src/$1',
  },
  transform: {
    '^.+\\.ts$': [
      'ts-jest',
      {
        tsconfig: '<rootDir>/tsconfig.json',
        astTransformers: {
          before: [{ path: '<rootDir>/test/swagger-plugin.transformer.js' }],
        },
      },
    ],
    'node_modules/.+\\.js$': [
      '@swc/jest',
      { jsc: { target: 'es2022', parser: { syntax: 'ecmascript' } }, module: { type: 'commonjs' } },
    ],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${ESM_PACKAGES.join('|')})/)`],
  globalSetup: '<rootDir>/test/global-setup.js',
  testTimeout: 60000,
  maxWorkers: 2,
};

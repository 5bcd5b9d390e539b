/**
 * ts-jest wrapper for the @nestjs/swagger CLI plugin (ES module only in Nest
 * 12), so tests compile DTOs with the same OpenAPI metadata as `nest build`.
 * Options mirror nest-cli.json.
 */
const { before } = require('@nestjs/swagger/plugin');
const { compilerOptions } = require('../nest-cli.json');

const { options } = compilerOptions.plugins.find((plugin) => plugin.name === '@nestjs/swagger');

module.exports = {
  name: 'nestjs-swagger-plugin',
  version: '1',
  factory: (tsCompiler) => before(options, tsCompiler.program),
};

export * from './validation.pipe';
export * from './decorators';
export * from './json-depth';
export * from './input-rules';

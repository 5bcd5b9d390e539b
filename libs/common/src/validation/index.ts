export * from './validation.pipe';
export * from './decorators';

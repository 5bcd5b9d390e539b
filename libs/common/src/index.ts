export * from './errors';
export * from './validation';
export * from './pagination/cursor';
export * from './ids';

export * from './errors';
export * from './validation';
export * from './pagination/cursor';
export * from './ids';
export * from './batching/group-commit';
export * from './cache/ttl-cache';
export * from './scheduling/periodic-task';
export * from './crypto/sealed-secret';

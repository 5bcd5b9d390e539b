export * from './app-error';
export * from './all-exceptions.filter';
export * from './sqlstate';

export * from './connection.ts';
export * from './constants.ts';
export * from './decoder.ts';
export * from './frame.ts';
export * from './server.ts';

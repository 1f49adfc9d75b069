export * from './ack.ts';
export * from './charset.ts';
export * from './delimiters.ts';
export * from './dtm.ts';
export * from './encode.ts';
export * from './escape.ts';
export * from './message.ts';

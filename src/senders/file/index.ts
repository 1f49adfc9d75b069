import type { SenderPlugin } from '../types.ts';
import { type FileDestinationConfig, fileDestinationConfig } from './config.ts';
import { FileSender } from './sender.ts';

export { FILE_DESTINATION_DEFAULTS, type FileDestinationConfig, fileDestinationConfig } from './config.ts';
export { classifyFileError, FileSender } from './sender.ts';

/** The `file` destination kind: one file per message, written atomically. */
export const fileSenderPlugin: SenderPlugin<FileDestinationConfig> = {
  kind: 'file',
  module: import.meta.url,
  config: fileDestinationConfig,
  create: (config, deps) => new FileSender(config, deps),
};

import type { SourcePlugin } from '../types.ts';
import { FileSourceConfig, fileSourceDirectories } from './config.ts';
import { createFileSource } from './source.ts';

export { FILE_SOURCE_DEFAULTS, FileSourceConfig, fileSourceDirectories } from './config.ts';

/** The `file` source kind: a drop directory. Two channels cannot read the same inbox. */
export const fileSourcePlugin: SourcePlugin<FileSourceConfig> = {
  kind: 'file',
  config: FileSourceConfig,
  endpoints: (config) => [`directory ${fileSourceDirectories(config).inbox}`],
  create: createFileSource,
};

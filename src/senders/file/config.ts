import { accessSync, constants, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { parseFileNameTemplate, TemplateError } from './template.ts';

/** Defaults of the file destination, in one place. */
export const FILE_DESTINATION_DEFAULTS = Object.freeze({
  fileName: '{messageId}.{ext}',
  encoding: 'utf-8',
  createDirectory: false,
} as const);

/**
 * Configuration of a file destination: one file per message in `directory`. Relative paths
 * are resolved from the engine's working directory. Unknown keys are errors.
 */
export const fileDestinationConfig = z
  .object({
    directory: z.string().min(1, 'expected the directory to write to'),
    /** Create the directory (and its parents) when it does not exist. */
    createDirectory: z.boolean().default(FILE_DESTINATION_DEFAULTS.createDirectory),
    /**
     * Name of each file; placeholders {messageId} {controlId} {destinationId} {date} {ext}.
     * A file of the same name is replaced: that is a resend of the same message.
     */
    fileName: z
      .string()
      .default(FILE_DESTINATION_DEFAULTS.fileName)
      .superRefine((t, ctx) => {
        try {
          parseFileNameTemplate(t);
        } catch (e) {
          if (!(e instanceof TemplateError)) throw e;
          ctx.addIssue({ code: 'custom', message: `invalid fileName template '${t}': ${e.message}` });
        }
      }),
    encoding: z.enum(['utf-8', 'latin1']).default(FILE_DESTINATION_DEFAULTS.encoding),
  })
  .strict()
  .superRefine(
    (c, ctx) => {
      const raw = c as { directory?: unknown; createDirectory?: unknown };
      if (typeof raw.directory !== 'string' || raw.directory === '') return;
      const dir = resolve(raw.directory);
      let isDirectory: boolean;
      try {
        isDirectory = statSync(dir).isDirectory();
      } catch {
        if (raw.createDirectory !== true) {
          ctx.addIssue({ code: 'custom', path: ['directory'], message: `the directory ${dir} does not exist; create it, or set createDirectory: true` });
        }
        return;
      }
      if (!isDirectory) {
        ctx.addIssue({ code: 'custom', path: ['directory'], message: `${dir} is not a directory` });
        return;
      }
      try {
        accessSync(dir, constants.W_OK | constants.X_OK);
      } catch {
        ctx.addIssue({ code: 'custom', path: ['directory'], message: `${dir} is not writable by this process` });
      }
    },
    { when: (payload) => payload.value !== null && typeof payload.value === 'object' },
  );

export type FileDestinationConfig = z.infer<typeof fileDestinationConfig>;

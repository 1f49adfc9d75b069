import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { type ErrorCode, ErrorCodes } from '../../errors.ts';
import { CharsetError, encodeHl7v2 } from '../../protocols/hl7v2/index.ts';
import type { OutboundMessage, Sender, SenderDeps, SendOutcome } from '../types.ts';
import type { FileDestinationConfig } from './config.ts';
import { parseFileNameTemplate, renderFileName, type TemplatePart } from './template.ts';

/** What a failed file system call means for the delivery, by errno. */
export function classifyFileError(errno: string | undefined): ErrorCode {
  switch (errno) {
    case 'ENOSPC':
    case 'EDQUOT':
      return 'FILE_NO_SPACE';
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return 'FILE_PERMISSION_DENIED';
    case 'ENOENT':
    case 'ENOTDIR':
      return 'FILE_DIRECTORY_UNAVAILABLE';
    case 'ENAMETOOLONG':
    case 'EILSEQ':
      return 'FILE_NAME_INVALID';
    default:
      return 'FILE_WRITE_FAILED';
  }
}

function failure(code: ErrorCode, detail: string): SendOutcome {
  return ErrorCodes[code].retry === 'permanent' ? { status: 'rejected', code, detail } : { status: 'retryable', code, detail };
}

/** Latin-1 carries U+0000 to U+00FF only; Buffer.from would silently replace the rest. */
const BEYOND_LATIN1 = /[^\u0000-\u00ff]/;

/**
 * Writes each message to its own file, atomically: the bytes go to a dot-named `.tmp` file in
 * the same directory, are fsynced, and the file is renamed to its name (then the directory is
 * fsynced, so the rename survives a power loss). A reader never sees a partial file, and the
 * temporary name is one the file drop source skips.
 *
 * The name comes from the fileName template and is the same on every attempt: a resend
 * replaces the file (atomically too), so there is one file per message.
 */
export class FileSender implements Sender {
  private readonly directory: string;
  private readonly template: readonly TemplatePart[];
  private readonly config: FileDestinationConfig;
  private readonly log: Logger;

  constructor(config: FileDestinationConfig, deps: SenderDeps) {
    this.config = config;
    this.directory = resolve(config.directory);
    this.template = parseFileNameTemplate(config.fileName);
    this.log = deps.log.child({ sender: 'file', dir: this.directory });
  }

  async send(message: OutboundMessage, signal: AbortSignal): Promise<SendOutcome> {
    if (signal.aborted) return failure('FILE_WRITE_ABORTED', 'stopped before writing');
    const name = renderFileName(this.template, message);
    if (Buffer.byteLength(name) > 255) return failure('FILE_NAME_INVALID', `the name built from '${this.config.fileName}' has more than 255 bytes`);
    // An HL7 v2 payload in the character set its MSH-18 declares; `encoding` for the rest.
    let bytes: Buffer;
    try {
      bytes = encodeHl7v2(message.payload, this.config.encoding === 'latin1' ? '8859/1' : 'UNICODE UTF-8').bytes;
    } catch (e) {
      if (!(e instanceof CharsetError)) throw e;
      const hint = this.config.encoding === 'latin1' && BEYOND_LATIN1.test(message.payload) ? '; set encoding: utf-8' : '';
      return failure('FILE_PAYLOAD_UNENCODABLE', `${e.message}${hint}`);
    }
    const tmp = join(this.directory, `.conduit-${randomBytes(8).toString('hex')}.tmp`);
    let step = 'create';
    try {
      if (this.config.createDirectory) await mkdir(this.directory, { recursive: true });
      const handle = await open(tmp, 'wx');
      try {
        step = 'write';
        await handle.writeFile(bytes);
        step = 'fsync';
        await handle.sync();
      } finally {
        await handle.close();
      }
      if (signal.aborted) {
        await unlink(tmp).catch(() => {});
        return failure('FILE_WRITE_ABORTED', 'stopped before the rename; nothing was written');
      }
      step = 'rename';
      await rename(tmp, join(this.directory, name));
      step = 'fsync directory';
      await syncDirectory(this.directory);
      return { status: 'acknowledged', response: `${name} (${bytes.length} bytes)` };
    } catch (e) {
      // Nothing is left behind under the temporary name; the target is untouched until the rename.
      if (step !== 'fsync directory') await unlink(tmp).catch(() => {});
      const errno = (e as NodeJS.ErrnoException).code;
      const code = classifyFileError(errno);
      this.log.warn({ messageId: message.messageId, code, errno, step }, 'writing the file failed');
      return failure(code, `${step} failed in ${this.directory} (${errno ?? 'unknown error'})`);
    }
  }

  async close(): Promise<void> {}
}

/** fsync of a directory makes a rename in it durable; a few platforms cannot (EISDIR, EINVAL) and need not. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch (e) {
    const errno = (e as NodeJS.ErrnoException).code;
    if (errno !== 'EISDIR' && errno !== 'EINVAL' && errno !== 'EPERM') throw e;
  } finally {
    await handle.close();
  }
}

import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';

/**
 * Opens a file of the inbox for reading, without following a symbolic link (ELOOP instead)
 * and without blocking on a FIFO, so what is read is the regular file that was listed, even
 * if the entry was swapped for a link meanwhile.
 */
export function openNoFollow(path: string | Buffer): Promise<FileHandle> {
  return open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
}

/** Reads the first `size` bytes; undefined when the file is shorter (truncated meanwhile). */
export async function readExactly(fh: FileHandle, size: number): Promise<Buffer | undefined> {
  const bytes = Buffer.allocUnsafe(size);
  let at = 0;
  while (at < size) {
    const { bytesRead } = await fh.read(bytes, at, size - at, at);
    if (bytesRead === 0) return undefined;
    at += bytesRead;
  }
  return bytes;
}

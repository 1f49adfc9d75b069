/** What the main thread and the store's writer thread (writer.ts) tell each other, besides the rounds (../rounds.ts). */
import type { StepResult } from '../rounds.ts';
import type { DataKey } from '../sealing/keyring.ts';

export interface WriterInit {
  file: string;
  busyTimeoutMs: number;
  /** The key content is sealed with (the keyring's first; the writer opens nothing); none: plaintext. Its bytes arrive as a Uint8Array. */
  key?: DataKey;
}

/** SQLite's error, as plain data (an Error's own properties do not cross threads). */
export interface WriteError {
  message: string;
  code?: string;
  errcode?: number;
  errstr?: string;
}

export type RoundAnswer = { id: number; ok: true; results: StepResult[] } | { id: number; ok: false; error: WriteError };

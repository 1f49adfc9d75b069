/** What the main thread and the store's writer thread (writer.ts) tell each other, besides the rounds (../rounds.ts). */
import type { StepResult } from '../rounds.ts';

export interface WriterInit {
  file: string;
  busyTimeoutMs: number;
}

/** SQLite's error, as plain data (an Error's own properties do not cross threads). */
export interface WriteError {
  message: string;
  code?: string;
  errcode?: number;
  errstr?: string;
}

export type RoundAnswer = { id: number; ok: true; results: StepResult[] } | { id: number; ok: false; error: WriteError };

import type { TokenRecord } from '../access/tokens.ts';
import type { AuditRow, ChainKey } from './chain.ts';
import type { AuditEvent, AuditOutcome } from './event.ts';

export interface AuditQuery {
  /** Rows after this seq (paging forwards), or before it (`before`, newest first). */
  readonly afterSeq?: number;
  readonly beforeSeq?: number;
  readonly since?: string;
  readonly until?: string;
  readonly actor?: string;
  /** An action, or a prefix ending in '.': `message.` for every message action. */
  readonly action?: string;
  readonly outcome?: AuditOutcome;
  readonly target?: string;
  readonly limit: number;
}

/** Where retention's last removal left the chain: the seq and hash of the last row removed. */
export interface AuditAnchor {
  readonly seq: number;
  readonly hash: string;
}

/**
 * The audit trail's table: append-only from the engine's side. Appends compute the chain
 * inside the transaction that inserts, so two processes (the engine, the CLI) never fork it.
 */
export interface AuditStore {
  appendAudit(events: ReadonlyArray<{ event: AuditEvent; at: string }>, key: ChainKey | undefined): Promise<void>;
  queryAudit(q: AuditQuery): Promise<AuditRow[]>;
  /** Rows with seq > afterSeq in order, for verifying. */
  walkAudit(afterSeq: number, limit: number): Promise<AuditRow[]>;
  auditAnchor(): Promise<AuditAnchor | undefined>;
  /**
   * Removes up to `limit` of the oldest rows received before `before`, moves the anchor to the
   * last one removed and appends an `audit.pruned` row recording it, in one transaction.
   */
  pruneAudit(before: string, limit: number, key: ChainKey | undefined): Promise<number>;
}

/** Named tokens: stored with the SHA-256 of their secret, never the secret. */
export interface TokenStore {
  /** Fails with ConduitError TOKEN_NAME_TAKEN when an unrevoked token has the name. */
  insertToken(token: TokenRecord, secretHash: string): Promise<void>;
  listTokens(): Promise<TokenRecord[]>;
  tokenByHash(secretHash: string): Promise<TokenRecord | undefined>;
  /** Revokes the token with this id, or the unrevoked one with this name; undefined when there is none. */
  revokeToken(idOrName: string, at: string): Promise<TokenRecord | undefined>;
}

export interface AccessStore extends AuditStore, TokenStore {
  close(): Promise<void>;
}

/** Schema of the embedded store. `user_version` tracks migrations. */
export const SCHEMA_VERSION = 6;

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS messages (
  seq            INTEGER PRIMARY KEY,
  id             TEXT NOT NULL UNIQUE,
  channel_id     TEXT NOT NULL,
  source_id      TEXT NOT NULL,
  source_version TEXT NOT NULL,
  received_at    TEXT NOT NULL,
  raw_input      TEXT NOT NULL,
  input_format   TEXT NOT NULL,
  canonical      TEXT,
  partition_key  TEXT NOT NULL,
  -- Inbound mapping that built the canonical report, as name@content-hash.
  mapping_version TEXT,
  -- The channel rule that filtered the message out, when one did (no deliveries then).
  filtered_by    TEXT,
  -- When retention removed the content (raw input, canonical, payloads, raw answers).
  content_pruned_at TEXT,
  -- The data key that sealed raw_input and canonical (see store/sealing/); NULL: plaintext.
  key_id         TEXT,
  UNIQUE (channel_id, source_id, source_version)
);
CREATE INDEX IF NOT EXISTS messages_channel ON messages (channel_id, seq);
-- Retention walks each channel's messages by age: all of them (metadata), and those that still
-- have their content (content), so a batch never rereads what an earlier one pruned.
CREATE INDEX IF NOT EXISTS messages_received ON messages (channel_id, received_at);
CREATE INDEX IF NOT EXISTS messages_with_content ON messages (channel_id, received_at) WHERE content_pruned_at IS NULL;
-- The message browser finds messages by patient, by the source's id, by a control id (MSH-10).
CREATE INDEX IF NOT EXISTS messages_partition ON messages (partition_key, seq);
CREATE INDEX IF NOT EXISTS messages_source ON messages (source_id, seq);
CREATE INDEX IF NOT EXISTS messages_time ON messages (received_at);

CREATE TABLE IF NOT EXISTS deliveries (
  id              INTEGER PRIMARY KEY,
  message_seq     INTEGER NOT NULL REFERENCES messages (seq),
  channel_id      TEXT NOT NULL,
  destination_id  TEXT NOT NULL,
  lane            INTEGER NOT NULL,
  control_id      TEXT NOT NULL,
  payload         TEXT NOT NULL,
  content_type    TEXT NOT NULL,
  -- Outbound mapping that encoded the payload, as name@content-hash.
  mapping_version TEXT,
  -- JSON array of encoder warnings (e.g. an analyte with no LOINC), shown in the admin API.
  warnings        TEXT,
  -- A follow-up (a status callback): the delivery whose terminal outcome it reports. Written in
  -- the same transaction as that outcome, so neither exists without the other.
  follows         INTEGER REFERENCES deliveries (id),
  status          TEXT NOT NULL,
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL DEFAULT 0,
  updated_at      TEXT NOT NULL,
  -- The data key that sealed payload; NULL: plaintext.
  key_id          TEXT,
  -- A dead or rejected delivery an operator dismissed: when and who (a resend clears it).
  dismissed_at    TEXT,
  dismissed_by    TEXT,
  UNIQUE (message_seq, destination_id)
);
-- Only pending rows are indexed, so the index stays as small as the backlog.
CREATE INDEX IF NOT EXISTS deliveries_pending
  ON deliveries (channel_id, destination_id, lane, id) WHERE status IN ('queued', 'sent', 'errored');
CREATE INDEX IF NOT EXISTS deliveries_status ON deliveries (status, message_seq);
CREATE INDEX IF NOT EXISTS deliveries_control ON deliveries (control_id);
-- Deleting a delivery (retention) makes SQLite look for follow-ups that reference it: without
-- this index that is a scan of the whole table for every row deleted.
CREATE INDEX IF NOT EXISTS deliveries_follows ON deliveries (follows);
-- /health counts recent dead and rejected deliveries; only those rows are indexed.
CREATE INDEX IF NOT EXISTS deliveries_settled ON deliveries (updated_at) WHERE status IN ('dead', 'rejected');

CREATE TABLE IF NOT EXISTS attempts (
  id          INTEGER PRIMARY KEY,
  delivery_id INTEGER NOT NULL REFERENCES deliveries (id),
  attempt     INTEGER NOT NULL,
  started_at  TEXT NOT NULL,
  latency_ms  REAL NOT NULL,
  outcome     TEXT NOT NULL,
  code        TEXT,
  detail      TEXT,
  response    TEXT,
  -- The writer round that stored it: tells a read whether the round in flight has committed.
  round       INTEGER,
  -- The data key that sealed detail and response; NULL: plaintext (or neither is there).
  key_id      TEXT
);
CREATE INDEX IF NOT EXISTS attempts_delivery ON attempts (delivery_id, id);

-- Inputs taken by the REST source: what GET <path>/<id> reads, and what an Idempotency-Key
-- repeat is checked against (same key and same body: the same submission; another body: 409).
CREATE TABLE IF NOT EXISTS submissions (
  seq             INTEGER PRIMARY KEY,
  -- The id the submitter polls: its first message's id.
  id              TEXT NOT NULL,
  channel_id      TEXT NOT NULL,
  idempotency_key TEXT,
  -- sha-256 of the body as received, hex.
  fingerprint     TEXT NOT NULL,
  -- JSON array of the ids of the messages the input became, in order.
  message_ids     TEXT NOT NULL,
  received_at     TEXT NOT NULL
);
-- NULL keys are distinct in a UNIQUE index: submissions without a key never collide here.
CREATE UNIQUE INDEX IF NOT EXISTS submissions_key ON submissions (channel_id, idempotency_key);
CREATE INDEX IF NOT EXISTS submissions_id ON submissions (id);

-- Each data key that ever sealed a value here: its check value (HMAC-SHA256 of a fixed text),
-- so a key file holding other bytes under a known id is refused at start (STORE_KEY_MISMATCH).
CREATE TABLE IF NOT EXISTS key_checks (
  key_id      TEXT PRIMARY KEY,
  check_value TEXT NOT NULL,
  created_at  TEXT NOT NULL
);
`;

/** Migrations from each older schema version to the next. */
export const MIGRATIONS: Record<number, string> = {
  1: `
ALTER TABLE messages ADD COLUMN mapping_version TEXT;
ALTER TABLE messages ADD COLUMN filtered_by TEXT;
ALTER TABLE deliveries ADD COLUMN mapping_version TEXT;
ALTER TABLE deliveries ADD COLUMN warnings TEXT;
`,
  // The submissions table is new: SCHEMA creates it.
  2: `
ALTER TABLE deliveries ADD COLUMN follows INTEGER REFERENCES deliveries (id);
`,
  // The retention indexes are new: SCHEMA creates them.
  3: `
ALTER TABLE messages ADD COLUMN content_pruned_at TEXT;
ALTER TABLE attempts ADD COLUMN round INTEGER;
`,
  // Encryption at rest: the key of each row's sealed content; key_checks is new (SCHEMA creates it).
  4: `
ALTER TABLE messages ADD COLUMN key_id TEXT;
ALTER TABLE deliveries ADD COLUMN key_id TEXT;
ALTER TABLE attempts ADD COLUMN key_id TEXT;
`,
  // Dismissed dead and rejected deliveries.
  5: `
ALTER TABLE deliveries ADD COLUMN dismissed_at TEXT;
ALTER TABLE deliveries ADD COLUMN dismissed_by TEXT;
`,
};

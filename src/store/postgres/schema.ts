/**
 * Schema of the PostgreSQL store: the same tables as the embedded store (../sqlite/schema.ts),
 * with PostgreSQL's types. Times are timestamptz (read back as ISO 8601 strings, see
 * connection.ts); `conduit_meta` holds the schema version.
 */
export const SCHEMA_VERSION = 5;

/** Run in one transaction under an advisory lock, so instances starting together migrate once. */
export const MIGRATIONS: Record<number, string> = {
  0: `
CREATE TABLE conduit_meta (
  key   text PRIMARY KEY,
  value text NOT NULL
);

CREATE TABLE messages (
  seq               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id                text NOT NULL UNIQUE,
  channel_id        text NOT NULL,
  source_id         text NOT NULL,
  source_version    text NOT NULL,
  received_at       timestamptz NOT NULL,
  raw_input         text NOT NULL,
  input_format      text NOT NULL,
  canonical         text,
  partition_key     text NOT NULL,
  -- Inbound mapping that built the canonical report, as name@content-hash.
  mapping_version   text,
  -- The channel rule that filtered the message out, when one did (no deliveries then).
  filtered_by       text,
  -- When retention removed the content (raw input, canonical, payloads, raw answers).
  content_pruned_at timestamptz,
  UNIQUE (channel_id, source_id, source_version)
);
CREATE INDEX messages_channel ON messages (channel_id, seq);
-- Retention walks each channel's messages by age: all of them (metadata), and those that still
-- have their content (content), so a batch never rereads what an earlier one pruned.
CREATE INDEX messages_received ON messages (channel_id, received_at, seq);
CREATE INDEX messages_with_content ON messages (channel_id, received_at, seq) WHERE content_pruned_at IS NULL;

CREATE TABLE deliveries (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  message_seq     bigint NOT NULL REFERENCES messages (seq),
  channel_id      text NOT NULL,
  destination_id  text NOT NULL,
  lane            integer NOT NULL,
  control_id      text NOT NULL,
  payload         text NOT NULL,
  content_type    text NOT NULL,
  mapping_version text,
  -- JSON array of encoder warnings (e.g. an analyte with no LOINC), shown in the admin API.
  warnings        text,
  -- A follow-up (a status callback): the delivery whose terminal outcome it reports.
  follows         bigint REFERENCES deliveries (id),
  status          text NOT NULL,
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at bigint NOT NULL DEFAULT 0,
  updated_at      timestamptz NOT NULL,
  -- The writer round that last changed the row: a read made while a round commits tells by it
  -- which of the outcomes not yet answered as written it already holds (see write-behind.ts).
  round           bigint NOT NULL DEFAULT 0,
  UNIQUE (message_seq, destination_id)
);
-- Only pending rows are indexed, so the index stays as small as the backlog.
CREATE INDEX deliveries_pending ON deliveries (channel_id, destination_id, lane, id) WHERE status IN ('queued', 'sent', 'errored');
CREATE INDEX deliveries_status ON deliveries (status, message_seq);
CREATE INDEX deliveries_follows ON deliveries (follows) WHERE follows IS NOT NULL;
CREATE INDEX deliveries_settled ON deliveries (updated_at) WHERE status IN ('dead', 'rejected');

CREATE TABLE attempts (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  delivery_id bigint NOT NULL REFERENCES deliveries (id),
  attempt     integer NOT NULL,
  started_at  timestamptz NOT NULL,
  latency_ms  double precision NOT NULL,
  outcome     text NOT NULL,
  code        text,
  detail      text,
  response    text,
  -- The writer round that stored it (see write-behind.ts).
  round       bigint
);
CREATE INDEX attempts_delivery ON attempts (delivery_id, id);

-- Inputs taken by the REST source (see the embedded store's schema).
CREATE TABLE submissions (
  seq             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id              text NOT NULL,
  channel_id      text NOT NULL,
  idempotency_key text,
  fingerprint     text NOT NULL,
  message_ids     text NOT NULL,
  received_at     timestamptz NOT NULL,
  UNIQUE (channel_id, idempotency_key)
);
CREATE INDEX submissions_id ON submissions (channel_id, id, seq);
CREATE INDEX submissions_received ON submissions (channel_id, received_at);
`,
  // Several instances on one database: who is alive, and which instance delivers each lane.
  1: `
CREATE TABLE instances (
  id           text PRIMARY KEY,
  host         text NOT NULL,
  pid          integer NOT NULL,
  -- Where its HTTP port answers (webhooks, admin API), as the instance reported it.
  url          text,
  started_at   timestamptz NOT NULL,
  heartbeat_at timestamptz NOT NULL,
  stopped_at   timestamptz
);

-- One row per delivery lane (channel, destination, lane) ever leased. The token grows with
-- every change of owner and never goes back (rows are never deleted): a mark or outcome
-- written under an older token is refused (see Fence).
CREATE TABLE lane_leases (
  channel_id     text NOT NULL,
  destination_id text NOT NULL,
  lane           integer NOT NULL,
  owner          text,
  token          bigint NOT NULL,
  acquired_at    timestamptz NOT NULL,
  expires_at     timestamptz NOT NULL,
  PRIMARY KEY (channel_id, destination_id, lane)
);
CREATE INDEX lane_leases_owner ON lane_leases (owner);

-- Work one instance does at a time, e.g. a file of an inbox several instances watch.
CREATE TABLE claims (
  key        text PRIMARY KEY,
  owner      text NOT NULL,
  expires_at timestamptz NOT NULL
);
`,
  // Encryption at rest (see ../sealing/): the data key of each row's sealed content (NULL:
  // plaintext), and the check value of each key that ever sealed a value here, so a key file
  // holding other bytes under a known id is refused at start (STORE_KEY_MISMATCH).
  2: `
ALTER TABLE messages ADD COLUMN key_id text;
ALTER TABLE deliveries ADD COLUMN key_id text;
ALTER TABLE attempts ADD COLUMN key_id text;

CREATE TABLE key_checks (
  key_id      text PRIMARY KEY,
  check_value text NOT NULL,
  created_at  timestamptz NOT NULL
);
`,
  // A dead or rejected delivery an operator dismissed: when and who (a resend clears it).
  3: `
ALTER TABLE deliveries ADD COLUMN dismissed_at timestamptz;
ALTER TABLE deliveries ADD COLUMN dismissed_by text;
`,
  // The message browser finds messages by patient, by the source's id, by a control id (MSH-10).
  4: `
CREATE INDEX messages_partition ON messages (partition_key, seq);
CREATE INDEX messages_source ON messages (source_id, seq);
CREATE INDEX messages_time ON messages (received_at);
CREATE INDEX deliveries_control ON deliveries (control_id);
`,
};

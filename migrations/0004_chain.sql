-- Up Migration

-- The chain adapter's transaction outbox (provisioning-api/chain/pg-outbox-store.ts): one row
-- per intended transaction, written before it is signed. Its own table rather than rows of
-- kind 'chain.tx' in `outbox` (0003): a signing key's entries are driven in nonce order by the
-- one process holding that key's lease (chain/signer-lease.ts), not claimed row by row, and
-- the engine's queries (by chain, signer, nonce; compare-and-set on version) want typed,
-- indexed columns. `entry` is the whole entry as entryToJson writes it (intent, signed
-- attempts, receipt, failure); the columns beside it are copies of its fields, kept by the
-- store in the same statement, for queries and constraints.
CREATE TABLE chain_outbox (
  id text PRIMARY KEY,
  chain_id numeric(78, 0) NOT NULL CHECK (chain_id > 0),
  -- Lower-case hex so that lookups need no case folding; the entry keeps the checksummed form.
  signer text NOT NULL CHECK (signer ~ '^0x[0-9a-f]{40}$'),
  -- OUTBOX_STATES of provisioning-api/chain/outbox-state.ts; its transitions are enforced by
  -- the store's compare-and-set, which names the states an update may come from.
  state text NOT NULL CHECK (state IN ('planned', 'sent', 'mined', 'confirmed', 'replaced', 'failed')),
  nonce bigint CHECK (nonce >= 0),
  version integer NOT NULL CHECK (version >= 1),
  entry jsonb NOT NULL,
  -- The engine's clock (entry.createdAt / updatedAt): planned entries are signed in creation order.
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  -- A planned entry holds no nonce; only a failed one may have none besides (a refusal gave it back).
  CHECK (state <> 'planned' OR nonce IS NULL),
  CHECK (state IN ('planned', 'failed') OR nonce IS NOT NULL)
);
-- One nonce, one entry: two writers that signed the same nonce cannot both record it, and the
-- engine broadcasts only what it recorded. Also serves highestNonce (max over the index).
CREATE UNIQUE INDEX chain_outbox_nonce ON chain_outbox (chain_id, signer, nonce) WHERE nonce IS NOT NULL;
-- What a signer's outbox resumes after a restart, and what it adopts from other processes.
CREATE INDEX chain_outbox_unfinished ON chain_outbox (chain_id, signer, nonce, created_at)
  WHERE state IN ('planned', 'sent', 'mined');

-- DeviceRegistry's events as the indexer (provisioning-api/chain/indexer.ts) read them, one row
-- per log. A log is unique on its chain by block and log index; `event` is the decoded
-- RegistryEvent (addresses checksummed, as ethers gives them). `subject` is what the event is
-- about, lower-case: the device, the batch id, or the account of a role change.
CREATE TABLE chain_registry_events (
  chain_id numeric(78, 0) NOT NULL,
  block_number bigint NOT NULL CHECK (block_number >= 0),
  log_index integer NOT NULL CHECK (log_index >= 0),
  registry text NOT NULL CHECK (registry ~ '^0x[0-9a-f]{40}$'),
  block_hash text NOT NULL CHECK (block_hash ~ '^0x[0-9a-f]{64}$'),
  transaction_hash text NOT NULL CHECK (transaction_hash ~ '^0x[0-9a-f]{64}$'),
  transaction_index integer NOT NULL,
  name text NOT NULL,
  subject text NOT NULL,
  event jsonb NOT NULL,
  indexed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (chain_id, block_number, log_index)
);
-- A device's or a batch's history, newest first; also what a rewind rebuilds from.
CREATE INDEX chain_registry_events_subject ON chain_registry_events (chain_id, registry, subject, block_number DESC, log_index DESC);
CREATE INDEX chain_registry_events_block ON chain_registry_events (chain_id, registry, block_number);

-- How far the indexer has read one registry: every block up to last_block is in
-- chain_registry_events, and last_block had hash last_block_hash when it was read (null
-- before the first page). Written in the transaction that writes the page's events.
CREATE TABLE chain_index_cursors (
  chain_id numeric(78, 0) NOT NULL,
  registry text NOT NULL CHECK (registry ~ '^0x[0-9a-f]{40}$'),
  from_block bigint NOT NULL CHECK (from_block >= 0),
  last_block bigint NOT NULL CHECK (last_block >= from_block - 1),
  last_block_hash text CHECK (last_block_hash ~ '^0x[0-9a-f]{64}$'),
  rewinds integer NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (chain_id, registry)
);

-- Each device's latest status on chain (DeviceStatusChanged), derived from
-- chain_registry_events and rebuilt from it for the devices a page or a rewind touches. A
-- device without a row has never changed status: the registry reports it Active.
CREATE TABLE chain_device_status (
  chain_id numeric(78, 0) NOT NULL,
  registry text NOT NULL,
  device text NOT NULL CHECK (device ~ '^0x[0-9a-f]{40}$'),
  -- DeviceRegistry.DeviceStatus by name (contracts/index.ts DEVICE_STATUSES).
  status text NOT NULL CHECK (status IN ('Active', 'Suspended', 'Revoked')),
  block_number bigint NOT NULL,
  log_index integer NOT NULL,
  transaction_hash text NOT NULL,
  changed_by text NOT NULL,
  PRIMARY KEY (chain_id, registry, device)
);
CREATE INDEX chain_device_status_status ON chain_device_status (chain_id, registry, status);

-- Anchored batches (BatchAnchored) and their revocation (BatchRevoked), derived the same way.
CREATE TABLE chain_batches (
  chain_id numeric(78, 0) NOT NULL,
  registry text NOT NULL,
  -- The backend's batchRef the root was anchored under, lower-case hex.
  batch_id text NOT NULL CHECK (batch_id ~ '^0x[0-9a-f]{64}$'),
  operator text NOT NULL,
  root text NOT NULL,
  leaf_count integer NOT NULL,
  anchored_block bigint NOT NULL,
  anchored_tx text NOT NULL,
  revoked_block bigint,
  revoked_tx text,
  revoked_by text,
  PRIMARY KEY (chain_id, registry, batch_id),
  CHECK ((revoked_block IS NULL) = (revoked_tx IS NULL))
);

-- Down Migration
DROP TABLE chain_batches;
DROP TABLE chain_device_status;
DROP TABLE chain_index_cursors;
DROP TABLE chain_registry_events;
DROP TABLE chain_outbox;

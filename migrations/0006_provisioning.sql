-- Up Migration

-- The card vendor's CA certificate (DER) that signs each card's attestation certificate,
-- configured per import: a key born on a card is accepted only if the card's certificate
-- chains to it (DESIGN.md flow 2).
ALTER TABLE sim_imports ADD COLUMN vendor_ca_certificate bytea;

-- A provisioning batch: SIMs taken from inventory to on-chain device identities together.
-- States: keygen (GENERATE KEY PAIR over OTA, PoRs and attestations coming in) → anchoring
-- (Merkle root planned in the chain outbox) → identity (root confirmed on chain, SIMs active,
-- identity pushed to each card by STORE DATA) → completed. A batch none of whose SIMs
-- produced a key ends `failed` without a chain transaction.
CREATE TABLE provisioning_batches (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants (id),
  created_by uuid REFERENCES api_keys (id),
  -- What was asked: {"iccids": [...]} | {"range": {"from", "to"}} | {"importId"}.
  selector jsonb NOT NULL,
  state text NOT NULL CHECK (state IN ('keygen', 'anchoring', 'identity', 'completed', 'failed')),
  sim_count integer NOT NULL CHECK (sim_count > 0),
  -- After this, SIMs still without a key are failed and the batch anchors what it has.
  deadline_at timestamptz NOT NULL,
  -- The DeviceRegistry anchoring: batchRef (bytes32, the batch id padded), root, leaf count,
  -- the chain outbox entry that carries it, and what the chain answered.
  batch_ref text NOT NULL UNIQUE CHECK (batch_ref ~ '^0x[0-9a-f]{64}$'),
  merkle_root text CHECK (merkle_root ~ '^0x[0-9a-f]{64}$'),
  leaf_count integer CHECK (leaf_count >= 0),
  chain_id numeric(78, 0),
  registry text,
  chain_outbox_id text,
  anchor_tx_hash text,
  anchor_block bigint,
  anchor_gas_used bigint,
  created_at timestamptz NOT NULL DEFAULT now(),
  keygen_finished_at timestamptz,
  anchored_at timestamptz,
  completed_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX provisioning_batches_tenant ON provisioning_batches (tenant_id, created_at DESC);
CREATE INDEX provisioning_batches_open ON provisioning_batches (state) WHERE state NOT IN ('completed', 'failed');

-- One row per SIM of a batch: where its provisioning stands.
--   queued → keygen-sent → keyed (key attested) → anchored (leaf on chain, SIM active)
--          → identity-sent → done;  failed from queued/keygen-sent/keyed (no attested key by
--   the deadline, or the card refused); push-failed when an active SIM's card never confirmed
--   its identity (the binding on chain stands; the push can be asked again).
CREATE TABLE provisioning_items (
  batch_id uuid NOT NULL REFERENCES provisioning_batches (id),
  iccid text COLLATE "C" NOT NULL,
  state text NOT NULL CHECK (state IN ('queued', 'keygen-sent', 'keyed', 'anchored', 'identity-sent', 'done', 'failed', 'push-failed')),
  -- Attempts of the current step (a lost PoR is retried with backoff).
  attempts smallint NOT NULL DEFAULT 0,
  not_before timestamptz NOT NULL DEFAULT now(),
  -- The OTA message carrying the current step's command (GENERATE KEY PAIR, then STORE DATA).
  ota_message_id bigint REFERENCES ota_messages (id),
  public_key bytea,
  address text CHECK (address ~ '^0x[0-9a-f]{40}$'),
  attestation_serial text,
  -- Salted IMSI commitment (the IMSI never goes on chain) and the Merkle leaf's index.
  salt bytea CHECK (length(salt) = 32),
  imsi_commitment bytea CHECK (length(imsi_commitment) = 32),
  leaf_index integer,
  failure_code text,
  failure_reason text,
  por_status smallint,
  keyed_at timestamptz,
  anchored_at timestamptz,
  done_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (batch_id, iccid)
);
-- A SIM is in at most one unfinished provisioning.
CREATE UNIQUE INDEX provisioning_items_open_sim ON provisioning_items (iccid)
  WHERE state NOT IN ('done', 'failed', 'push-failed');
-- What the workers scan: items waiting on a step, in batch order.
CREATE INDEX provisioning_items_work ON provisioning_items (state, not_before)
  WHERE state IN ('queued', 'keygen-sent', 'anchored', 'identity-sent');
CREATE INDEX provisioning_items_ota ON provisioning_items (ota_message_id) WHERE ota_message_id IS NOT NULL;
-- A batch's counts per state, and "is anything of this batch still in state X" probes.
CREATE INDEX provisioning_items_batch_state ON provisioning_items (batch_id, state);

-- The device identity of a provisioned SIM: the address of the key its card generated,
-- bound on chain to the SIM's salted IMSI commitment by its batch's Merkle root.
CREATE TABLE devices (
  address text PRIMARY KEY CHECK (address ~ '^0x[0-9a-f]{40}$'),
  iccid text COLLATE "C" NOT NULL UNIQUE,
  tenant_id uuid NOT NULL,
  batch_id uuid NOT NULL REFERENCES provisioning_batches (id),
  public_key bytea NOT NULL,
  curve text NOT NULL,
  key_slot smallint NOT NULL,
  salt bytea NOT NULL,
  imsi_commitment bytea NOT NULL,
  leaf_index integer NOT NULL,
  -- The Merkle proof of the leaf: its sibling hashes, leaf to root, 32 bytes each.
  proof bytea NOT NULL CHECK (length(proof) % 32 = 0),
  attestation_serial text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX devices_tenant ON devices (tenant_id, address);
CREATE INDEX devices_batch ON devices (batch_id, leaf_index);

-- Down Migration
DROP TABLE devices;
DROP TABLE provisioning_items;
DROP TABLE provisioning_batches;
ALTER TABLE sim_imports DROP COLUMN vendor_ca_certificate;

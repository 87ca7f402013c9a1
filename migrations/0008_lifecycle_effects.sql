-- Up Migration

-- Suspend, resume or terminate of a SIM bound to a device (a `devices` row) acts on the card
-- (LOCK / UNLOCK / TERMINATE over OTA) and on the chain (DeviceRegistry.setStatus), and the
-- SIM's state changes only once both are confirmed (provisioning-api/lifecycle/). One row per
-- such job: what each side must reach and how far it got. The job's checks (pg-boss queue
-- sim-lifecycle-effects) advance it, each in one transaction that also schedules the next.
CREATE TABLE sim_lifecycle_effects (
  job_id uuid PRIMARY KEY REFERENCES jobs (id),
  iccid text COLLATE "C" NOT NULL,
  action text NOT NULL CHECK (action IN ('suspend', 'resume', 'terminate')),
  from_state text NOT NULL,
  to_state text NOT NULL,
  device text NOT NULL CHECK (device ~ '^0x[0-9a-f]{40}$'),
  -- applying: the action's effects; compensating: putting back the side that succeeded after
  -- the other one failed (suspend and resume only); done: the job has its outcome.
  phase text NOT NULL DEFAULT 'applying' CHECK (phase IN ('applying', 'compensating', 'done')),
  -- The card: the instruction, the applet lifecycle it leads to, and the OTA message in flight:
  -- the instruction, or a GET STATUS probe after a lost PoR (probe-lost) or a 6985 (probe-refused).
  card_instruction text NOT NULL CHECK (card_instruction IN ('LOCK', 'UNLOCK', 'TERMINATE')),
  card_target text NOT NULL CHECK (card_target IN ('operational', 'locked', 'terminated')),
  card_state text NOT NULL DEFAULT 'pending' CHECK (card_state IN ('pending', 'confirmed', 'refused', 'untouched')),
  card_detail jsonb,
  ota_message_id bigint REFERENCES ota_messages (id),
  ota_purpose text CHECK (ota_purpose IN ('command', 'probe-lost', 'probe-refused')),
  ota_sends integer NOT NULL DEFAULT 0,
  -- The chain: the DeviceRegistry status and the chain_outbox entry that sets it.
  chain_status text NOT NULL CHECK (chain_status IN ('Active', 'Suspended', 'Revoked')),
  chain_entry_id text NOT NULL,
  chain_state text NOT NULL DEFAULT 'pending' CHECK (chain_state IN ('pending', 'confirmed', 'failed', 'untouched')),
  chain_detail jsonb,
  -- Why the action failed ({code, message, card, chain}), kept while compensating.
  failure jsonb,
  -- The live check carries this number; a check job with another one is stale and does nothing.
  seq integer NOT NULL DEFAULT 0,
  checks integer NOT NULL DEFAULT 0,
  -- No new OTA message after this; the chain side is waited for whatever the time (the chain
  -- outbox never drops a transaction).
  deadline_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sim_lifecycle_effects_open ON sim_lifecycle_effects (created_at) WHERE phase <> 'done';
CREATE INDEX sim_lifecycle_effects_iccid ON sim_lifecycle_effects (iccid, created_at);

-- Down Migration
DROP TABLE sim_lifecycle_effects;

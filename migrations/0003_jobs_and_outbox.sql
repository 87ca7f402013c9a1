-- Up Migration

-- Jobs as the API shows them (GET /v1/jobs/{id}). pg-boss carries their execution on the
-- same database; this row is what a caller polls, and the worker's idempotency anchor.
CREATE TABLE jobs (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants (id),
  created_by uuid REFERENCES api_keys (id),
  kind text NOT NULL CHECK (kind IN ('sim.suspend', 'sim.resume', 'sim.terminate', 'sim.allocate', 'sim-import.load')),
  state text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'succeeded', 'failed')),
  input jsonb NOT NULL,
  result jsonb,
  error jsonb,
  attempts integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz
);
CREATE INDEX jobs_tenant ON jobs (tenant_id, created_at DESC);

-- Transactional outbox: everything that leaves the database (OTA messages to cards, chain
-- transactions) is first a row here, written in the transaction that decided it. A sender
-- claims rows (lease), acts, and records each step as a state change; nothing is sent
-- that the database does not know, and nothing known is lost. States per kind are in
-- provisioning-api/domain/outbox.ts.
CREATE TABLE outbox (
  id bigserial PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('ota.command', 'chain.tx')),
  state text NOT NULL,
  idempotency_key text NOT NULL UNIQUE,
  -- What the message is about (a SIM's ICCID, a batch id...), for lookups and ordering.
  subject text NOT NULL,
  job_id uuid REFERENCES jobs (id),
  payload jsonb NOT NULL,
  result jsonb,
  attempts integer NOT NULL DEFAULT 0,
  available_at timestamptz NOT NULL DEFAULT now(),
  lease_owner text,
  lease_until timestamptz,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK (
    (kind = 'ota.command' AND state IN ('queued', 'submitted', 'delivered', 'por-received', 'por-error', 'expired', 'failed'))
    OR (kind = 'chain.tx' AND state IN ('planned', 'sent', 'mined', 'confirmed', 'replaced', 'failed'))
  )
);
-- Senders scan only the rows still in flight.
CREATE INDEX outbox_in_flight ON outbox (kind, state, available_at)
  WHERE state NOT IN ('por-received', 'por-error', 'expired', 'confirmed', 'replaced', 'failed');
CREATE INDEX outbox_subject ON outbox (subject, id);
CREATE INDEX outbox_job ON outbox (job_id) WHERE job_id IS NOT NULL;

-- Down Migration
DROP TABLE outbox;
DROP TABLE jobs;

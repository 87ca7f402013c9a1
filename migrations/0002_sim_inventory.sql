-- Up Migration

-- Data encryption keys (envelope encryption): each import encrypts its OTA keysets under a
-- fresh 256-bit key, stored here only wrapped (AES-256-GCM) under the master key whose
-- version is kept, so rotating the master key rewraps these rows and touches no SIM.
CREATE TABLE data_keys (
  id bigserial PRIMARY KEY,
  master_key_version integer NOT NULL CHECK (master_key_version > 0),
  wrapped bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  rewrapped_at timestamptz
);

CREATE TABLE sim_imports (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants (id),
  created_by uuid REFERENCES api_keys (id),
  -- The same file imported twice is the same import.
  content_sha256 bytea NOT NULL UNIQUE CHECK (length(content_sha256) = 32),
  file_name text,
  format text NOT NULL CHECK (format IN ('csv', 'out')),
  state text NOT NULL CHECK (state IN ('staged', 'loading', 'completed', 'rejected')),
  row_count integer NOT NULL CHECK (row_count >= 0),
  loaded_count integer NOT NULL DEFAULT 0,
  byte_count bigint NOT NULL,
  dropped_columns text[] NOT NULL DEFAULT '{}',
  metadata jsonb NOT NULL DEFAULT '{}',
  problems jsonb NOT NULL DEFAULT '[]',
  problem_count integer NOT NULL DEFAULT 0,
  data_key_id bigint NOT NULL REFERENCES data_keys (id),
  created_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz
);
CREATE INDEX sim_imports_tenant ON sim_imports (tenant_id, created_at DESC);

-- Progress of a load, written outside the loading transaction (which keeps the import row
-- locked until it commits) so that GET /v1/sim-imports/{id} can show it meanwhile.
CREATE TABLE sim_import_progress (
  import_id uuid PRIMARY KEY REFERENCES sim_imports (id) ON DELETE CASCADE,
  loaded integer NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Staged rows of imports waiting to be loaded live in one table per import in this schema
-- (created and filled by COPY in the transaction that records the import, dropped when the
-- import is loaded or rejected).
CREATE SCHEMA sim_import_staging;

-- The inventory. Text identifiers use the C collation: byte order is the right order for
-- digit strings and makes every comparison cheap.
CREATE TABLE sims (
  iccid text COLLATE "C" PRIMARY KEY,
  imsi text COLLATE "C" NOT NULL UNIQUE,
  msisdn text COLLATE "C" NOT NULL UNIQUE,
  tar text NOT NULL CHECK (tar ~ '^[0-9a-f]{6}$'),
  -- No foreign key: a million-row load would pay one lookup per row for it. Every writer
  -- checks the tenant (the import's own tenant, an allocation's validated target) and
  -- tenants are never deleted.
  tenant_id uuid NOT NULL,
  state text NOT NULL DEFAULT 'inventory'
    CHECK (state IN ('inventory', 'provisioning', 'active', 'suspended', 'terminated', 'failed')),
  -- A requested change still being carried out (the visible transitional state).
  pending_action text CHECK (pending_action IN ('suspend', 'resume', 'terminate')),
  pending_job_id uuid,
  import_id uuid NOT NULL,
  import_line integer NOT NULL,
  -- OTA keysets: AES-256-GCM under the import's data key (nonce || ciphertext || tag,
  -- the ICCID as additional data). Never returned by the API.
  data_key_id bigint NOT NULL,
  keysets bytea NOT NULL,
  attestation_serial text,
  state_changed_at timestamptz NOT NULL DEFAULT now(),
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((pending_action IS NULL) = (pending_job_id IS NULL))
);
-- Keyset pagination per tenant and state (GET /v1/sims).
CREATE INDEX sims_tenant_iccid ON sims (tenant_id, iccid);
CREATE INDEX sims_import ON sims (import_id);

-- Down Migration
DROP TABLE sims;
DROP TABLE sim_import_progress;
DROP SCHEMA sim_import_staging CASCADE;
DROP TABLE sim_imports;
DROP TABLE data_keys;

-- Up Migration

-- Tenants: the operator itself (exactly one) and its customers (a city is one).
CREATE TABLE tenants (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
  kind text NOT NULL CHECK (kind IN ('operator', 'customer')),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX tenants_single_operator ON tenants (kind) WHERE kind = 'operator';

-- API keys: the secret is shown once on creation and stored only as its SHA-256 (the
-- secret is 256 random bits, so a fast hash is enough: nothing to brute-force).
-- `prefix` is the public half of the key, used to find the row.
CREATE TABLE api_keys (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants (id),
  role text NOT NULL CHECK (role IN ('operator-admin', 'carrier-ops', 'municipal-it', 'emergency-services', 'auditor')),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  prefix text NOT NULL UNIQUE,
  secret_sha256 bytea NOT NULL CHECK (length(secret_sha256) = 32),
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz,
  last_used_at timestamptz
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id, created_at);

-- Down Migration
DROP TABLE api_keys;
DROP TABLE tenants;

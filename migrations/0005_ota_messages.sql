-- Up Migration

-- The OTA counter of each SIM's keyset (TS 102 225 §5.1.1: the sending entity's counter;
-- the card's counter mode "higher" refuses anything not above the last one it took). The
-- backend picks the next one in the transaction that writes the OTA message, so two
-- senders never share a counter and a crash never reuses one.
CREATE TABLE ota_counters (
  iccid text COLLATE "C" NOT NULL,
  keyset_index smallint NOT NULL CHECK (keyset_index BETWEEN 1 AND 15),
  last_counter bigint NOT NULL CHECK (last_counter BETWEEN 0 AND 1099511627775),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (iccid, keyset_index)
);

-- One row per OTA command (a secured packet, one or more SMS): what happened to it, as the
-- operator sees it. States: queued → submitted (every part's submit_sm_resp) → delivered
-- (every part's delivery receipt) → por-received | por-error (the card's PoR, TS 102 225
-- §5.2), or expired (no PoR before expires_at, or an EXPIRED receipt), or failed (refused
-- by the SMSC, undeliverable, or out of attempts).
CREATE TABLE ota_messages (
  id bigserial PRIMARY KEY,
  iccid text COLLATE "C" NOT NULL,
  -- E.164 with '+', as in sims.msisdn; the PoR is matched on (msisdn, tar, cntr).
  msisdn text COLLATE "C" NOT NULL,
  tar text NOT NULL CHECK (tar ~ '^[0-9a-f]{6}$'),
  keyset_index smallint NOT NULL CHECK (keyset_index BETWEEN 1 AND 15),
  cntr bigint NOT NULL CHECK (cntr BETWEEN 0 AND 1099511627775),
  spi text NOT NULL CHECK (spi ~ '^[0-9a-f]{4}$'),
  state text NOT NULL DEFAULT 'queued'
    CHECK (state IN ('queued', 'submitted', 'delivered', 'por-received', 'por-error', 'expired', 'failed')),
  -- The SMS user data parts exactly as sent (UDH included). The packet is ciphered and
  -- carries its CC: nothing here is a key, and a resend after a crash sends the same bytes
  -- with the same counter, so the card runs the command at most once.
  user_data bytea[] NOT NULL CHECK (cardinality(user_data) BETWEEN 1 AND 255),
  delivered_parts smallint[] NOT NULL DEFAULT '{}',
  attempts integer NOT NULL DEFAULT 0,
  por_status smallint CHECK (por_status BETWEEN 0 AND 255),
  por_cc_valid boolean,
  -- The PoR's additional data (TS 102 226 compact response: commands executed, last SW, data).
  por_data bytea,
  last_error text,
  outbox_id bigint REFERENCES outbox (id),
  job_id uuid,
  lease_owner text,
  lease_until timestamptz,
  expires_at timestamptz NOT NULL,
  queued_at timestamptz NOT NULL DEFAULT now(),
  submitted_at timestamptz,
  delivered_at timestamptz,
  por_at timestamptz,
  finished_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (iccid, keyset_index, cntr)
);
-- PoR matching: the open messages to a handset's TAR.
CREATE INDEX ota_messages_match ON ota_messages (msisdn, tar, id) WHERE state IN ('queued', 'submitted', 'delivered');
-- Senders and the expiry sweep scan only what is in flight.
CREATE INDEX ota_messages_open ON ota_messages (state, id) WHERE state IN ('queued', 'submitted', 'delivered');
CREATE INDEX ota_messages_iccid ON ota_messages (iccid, id);
CREATE INDEX ota_messages_job ON ota_messages (job_id) WHERE job_id IS NOT NULL;

-- Every submit_sm the SMSC took: one per SMS part and attempt. A resend after an unknown
-- outcome (timeout, session lost) is a new row, so a receipt for any copy finds its message
-- and the operator sees each copy. Message ids are the SMSC's and need not be unique forever.
CREATE TABLE ota_submissions (
  id bigserial PRIMARY KEY,
  ota_message_id bigint NOT NULL REFERENCES ota_messages (id),
  part smallint NOT NULL CHECK (part >= 1),
  attempt integer NOT NULL CHECK (attempt >= 1),
  smpp_message_id text NOT NULL,
  submitted_at timestamptz NOT NULL,
  -- SMPP 3.4 Appendix B stat of its delivery receipt (DELIVRD, EXPIRED, UNDELIV...).
  receipt_stat text,
  receipt_err text,
  receipt_at timestamptz
);
CREATE INDEX ota_submissions_message_id ON ota_submissions (smpp_message_id, id);
CREATE INDEX ota_submissions_ota_message ON ota_submissions (ota_message_id);

-- Mobile-originated OTA messages that did not answer an open command: a second PoR for a
-- command resent after an unknown outcome (the card refuses the copy: counter low), a PoR
-- that does not verify, or one for nothing we sent. Kept so the operator sees them too.
CREATE TABLE ota_inbound (
  id bigserial PRIMARY KEY,
  msisdn text COLLATE "C" NOT NULL,
  tar text,
  outcome text NOT NULL CHECK (outcome IN ('duplicate', 'unmatched', 'invalid')),
  ota_message_id bigint REFERENCES ota_messages (id),
  por_status smallint,
  user_data bytea NOT NULL,
  detail text,
  received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ota_inbound_msisdn ON ota_inbound (msisdn, id);

-- Down Migration
DROP TABLE ota_inbound;
DROP TABLE ota_submissions;
DROP TABLE ota_messages;
DROP TABLE ota_counters;

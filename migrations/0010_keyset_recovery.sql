-- Up Migration

-- A rotation that ended PROBE_EXHAUSTED leaves the card's keyset unknown: the old keys in
-- sims.keysets, the new ones sealed on its row. The next rotation of that keyset recovers it
-- first (provisioning-api/services/keyset-rotation.ts): it takes over the pending keys and
-- starts with the probes (new keys, then old); the new keys answering switches the SIM to
-- them, the old keys answering goes on to a fresh PUT KEY. `recovers` names the rotation
-- whose keys it took over.
ALTER TABLE keyset_rotations ADD COLUMN recovers uuid REFERENCES keyset_rotations (id);
CREATE UNIQUE INDEX keyset_rotations_recovers ON keyset_rotations (recovers) WHERE recovers IS NOT NULL;

-- Down Migration
DROP INDEX keyset_rotations_recovers;
ALTER TABLE keyset_rotations DROP COLUMN recovers;

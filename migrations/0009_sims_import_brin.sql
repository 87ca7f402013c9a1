-- Up Migration

-- The SIMs of an import (allocations and provisioning batches by import id) are found
-- through a BRIN index instead of a btree: an import writes its rows together, so the
-- block ranges of one import hold little else and the index stays a few pages. A btree on
-- import_id took one entry per SIM, all with the same key: 1.5 s of the server's work for
-- a million-row import (README, benchmark `sim-import`), where BRIN's upkeep is a
-- summary per 128 pages. New ranges are summarised when (auto)vacuum visits the table;
-- until then they are read, so answers are always complete. Not autosummarize: a batch that
-- updates 100,000 SIMs fills ranges faster than autovacuum's work-item queue takes them,
-- and each refused request is a line in the server's log.
DROP INDEX sims_import;
CREATE INDEX sims_import ON sims USING brin (import_id);

-- Down Migration
DROP INDEX sims_import;
CREATE INDEX sims_import ON sims (import_id);

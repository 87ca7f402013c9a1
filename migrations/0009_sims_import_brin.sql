-- Up Migration

-- The SIMs of an import (allocations and provisioning batches by import id) are found
-- through a BRIN index instead of a btree: an import writes its rows together, so the
-- block ranges of one import hold little else and the index stays a few pages. A btree on
-- import_id took one entry per SIM, all with the same key: 1.5 s of the server's work for
-- a million-row import (README, benchmark `sim-import`), where BRIN's upkeep is a
-- summary per 128 pages. New ranges are summarised by autovacuum (autosummarize); until
-- then they are read, so answers are always complete.
DROP INDEX sims_import;
CREATE INDEX sims_import ON sims USING brin (import_id) WITH (autosummarize = on);

-- Down Migration
DROP INDEX sims_import;
CREATE INDEX sims_import ON sims (import_id);

-- Up Migration

-- Room on each page for the one update every row of these tables gets (README, benchmark
-- `provisioning`).
--
-- A delivery receipt sets receipt_stat, receipt_err and receipt_at of its submission, and a
-- new OTA message of a SIM raises last_counter of its keyset: no indexed column changes,
-- so PostgreSQL can write the new row version on the same page without touching any index
-- (a HOT update), if the page has room for it. Filled to 100% by their inserts, the pages
-- had none: 8% of receipts and 12% of counter updates were HOT at 100,000 SIMs, the others
-- added an entry to every index of the table (three for submissions, one for counters).
-- Each row is updated about once before it is read no more, so half of each page is left
-- free for it. Pages written before this keep their rows; new pages follow.
ALTER TABLE ota_submissions SET (fillfactor = 50);
ALTER TABLE ota_counters SET (fillfactor = 50);

-- Down Migration
ALTER TABLE ota_submissions RESET (fillfactor);
ALTER TABLE ota_counters RESET (fillfactor);

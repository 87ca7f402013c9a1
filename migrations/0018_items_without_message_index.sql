-- Up Migration

-- One index fewer on provisioning_items (README, benchmark `provisioning`).
--
-- Every update of an item is a state change, which no index can skip, and once the item has
-- sent its first command each update also added an entry to provisioning_items_ota: five a
-- SIM. Its one reader, the collector looking up the items of settled OTA messages, now goes
-- from the message to its SIM's open item by ICCID (provisioning_items_open_sim), as fast.
-- OTA messages are never deleted, so the foreign key does not need it either.
DROP INDEX provisioning_items_ota;

-- Down Migration
CREATE INDEX provisioning_items_ota ON provisioning_items (ota_message_id) WHERE ota_message_id IS NOT NULL;

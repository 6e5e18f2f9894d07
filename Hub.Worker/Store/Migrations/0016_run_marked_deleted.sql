-- How many published rows a run ended because the agency marked their records deleted (deleted_when): in a full run
-- `deleted` also counts the keys absent from the listing, and a run reconciles only when the two are told apart.
-- Null for runs before this migration.
alter table hub.runs add column marked_deleted bigint;

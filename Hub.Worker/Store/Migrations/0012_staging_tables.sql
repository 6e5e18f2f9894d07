-- Claim check (docs/performance.md): the connector that fetched a batch stages its valid records itself, as typed
-- rows, in a table of their run in the schema "staging" (UNLOGGED: a run's staged rows are counted against its
-- batches before anything is published, so a crash that empties them fails the run instead of losing rows). The bus
-- carries no records any more. A run still under way when this migration runs finds no staged rows and fails
-- ("rerun"); hub.staged_records is dropped.
create schema if not exists staging;
drop table if exists hub.staged_records;

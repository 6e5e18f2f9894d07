-- Performance: unchanged records staged without JSON, faster compression of raw payloads.

-- A staged record without JSON is one the connector found unchanged since the published version.
alter table hub.staged_records alter column record drop not null;

-- Raw pages are large and written once per request: LZ4 compresses them several times faster than the default pglz.
alter table hub.payloads alter column body set compression lz4;

-- When the connector finished fetching: splits a run's time into fetch-and-check and write-and-publish.
alter table hub.runs add column fetch_finished_at timestamptz;

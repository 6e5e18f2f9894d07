-- A staged record without JSON is one the connector found unchanged since the published version.
alter table hub.staged_records alter column record drop not null;

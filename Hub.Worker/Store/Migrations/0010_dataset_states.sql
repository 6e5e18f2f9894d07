-- Schema evolution and withdrawal (issue 4).
-- blocked_reason: a breaking schema change (a property changed type or was removed or renamed, the primary key
--   changed) under the schema version already registered; the dataset publishes nothing (no scheduled run, push
--   or replay) until its file is put back or declares a higher schema_version. Cleared by the next good registration.
-- pending_table: a higher schema version with a breaking change gets a new typed table (open_data.<id>_v<N>);
--   the first full run publishes into it and switches table_name to it in the same transaction.
-- withdrawn_reason: the dataset's file now classifies it secret (regulation Art. 1.2): it is unscheduled and the
--   public read APIs no longer serve it; its rows stay in the store.
alter table hub.datasets add column blocked_reason text;
alter table hub.datasets add column pending_table text;
alter table hub.datasets add column withdrawn_reason text;

-- The table that holds a version's rows when it is not the dataset's current table (versions published before a
-- switch to a new table); null: the dataset's table_name.
alter table hub.versions add column table_name text;

-- Columns added to a dataset table after it published versions (an additive schema change), with the dataset's
-- version at that moment: the audit digests of versions up to it leave the column out, as it was not there when
-- they were published (to_jsonb of an old row now shows it as null).
create table hub.added_columns (
    table_name    text   not null,
    column_name   text   not null,
    after_version bigint not null,
    primary key (table_name, column_name)
);

-- Readers that cache a dataset (the API's records endpoint) learn of a withdrawal at once.
create or replace trigger datasets_notify_changed
    after update on hub.datasets
    for each row
    when (old.current_version is distinct from new.current_version
          or old.updated_at is distinct from new.updated_at
          or old.table_name is distinct from new.table_name
          or old.withdrawn_reason is distinct from new.withdrawn_reason)
    execute function hub.notify_dataset_changed();

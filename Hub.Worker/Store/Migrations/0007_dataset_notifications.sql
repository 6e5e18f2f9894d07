-- Readers that keep a dataset's current version in memory (the API's records endpoint) learn at once when it
-- changes: every publication or registration change of a dataset notifies channel hub_dataset_changed with its id,
-- delivered when the transaction commits.
create function hub.notify_dataset_changed() returns trigger language plpgsql as $$
begin
    perform pg_notify('hub_dataset_changed', new.id);
    return null;
end
$$;

create trigger datasets_notify_changed
    after update on hub.datasets
    for each row
    when (old.current_version is distinct from new.current_version
          or old.updated_at is distinct from new.updated_at
          or old.table_name is distinct from new.table_name)
    execute function hub.notify_dataset_changed();

-- A version's change events are sent after the transaction that published it has committed. events_sent_at is
-- null from that commit until every part and the DatasetVersionPublished of the version went out: a send that
-- failed (broker error, worker stopped) is repeated by the run's message retry or by the housekeeping sweep.
alter table hub.versions add column events_sent_at timestamptz;

-- Versions published before this column existed had their events sent then, or lost for good: not resent.
update hub.versions set events_sent_at = published_at;

create index versions_events_unsent on hub.versions (dataset_id, version) where events_sent_at is null;

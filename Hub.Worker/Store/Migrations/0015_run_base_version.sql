-- The dataset's published version when a run started: when it is still the published version at the run's
-- publication, no other run published meanwhile, so the records the run found unchanged need no second check.
alter table hub.runs add column base_version bigint;

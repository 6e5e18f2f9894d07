-- Freshness against the legal update cycles (regulation Art. 4.6) and the quarterly compliance report.

-- The cycle a dataset declared from an instant on; DatasetRegistry adds a row when the cycle changes.
create table hub.dataset_cycles (
    dataset_id      text        not null references hub.datasets (id),
    update_cycle    text        not null,
    effective_from  timestamptz not null,
    primary key (dataset_id, effective_from)
);
insert into hub.dataset_cycles (dataset_id, update_cycle, effective_from)
select id, update_cycle, registered_at from hub.datasets;

-- An operator waived the obligation of a dataset for a period (Art. 11.4 reports show it as waived).
create table hub.freshness_waivers (
    dataset_id  text        not null references hub.datasets (id),
    period      text        not null,
    reason      text        not null,
    waived_by   text        not null,
    created_at  timestamptz not null,
    primary key (dataset_id, period)
);

-- The agency confirmed that a dataset did not change for a period: the obligation is fulfilled then.
create table hub.freshness_confirmations (
    dataset_id    text        not null references hub.datasets (id),
    period        text        not null,
    reason        text        not null,
    confirmed_by  text        not null,
    created_at    timestamptz not null,
    primary key (dataset_id, period)
);

-- Every transition into at_risk, late or missing that was published on the bus; the newest row of an
-- obligation is the state last announced, so each transition goes out once.
create table hub.freshness_events (
    id           bigint generated always as identity primary key,
    dataset_id   text        not null references hub.datasets (id),
    agency_code  text        not null,
    period       text        not null,
    old_state    text,
    new_state    text        not null,
    deadline     timestamptz not null,
    days_late    int,
    occurred_at  timestamptz not null
);
create index freshness_events_by_obligation on hub.freshness_events (dataset_id, period, id desc);

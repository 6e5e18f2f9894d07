-- Push ingestion (regulation Art. 4.4, 12.3): agency API keys and idempotent pushes.

-- An API key issued to an agency. Only the SHA-256 of the key is kept; the key itself is shown once, when issued.
create table hub.agency_keys (
    key_id       text primary key,
    agency_code  text        not null,
    key_sha256   text        not null unique,
    created_at   timestamptz not null,
    revoked_at   timestamptz
);
create index agency_keys_by_agency on hub.agency_keys (agency_code);

-- A push that carried an Idempotency-Key: a repeat with the same key and dataset gets this answer back and
-- publishes nothing. run_id is null while the first push is still being published.
create table hub.push_requests (
    dataset_id       text        not null references hub.datasets (id),
    idempotency_key  text        not null,
    run_id           uuid        references hub.runs (id),
    accepted         bigint,
    quarantined      bigint,
    created_at       timestamptz not null,
    primary key (dataset_id, idempotency_key)
);

-- Connectors that paused themselves after Scheduling:PauseAfterFailures consecutive failed runs, with the
-- reason shown in GET /api/connectors. Resuming clears the reason and restarts the count of failures.
create table hub.connector_pauses (
    dataset_id     text primary key references hub.datasets (id),
    paused_reason  text,
    paused_at      timestamptz,
    resumed_at     timestamptz
);

-- Incremental sync: the largest cursor value a run saw (set when its fetch completed), and per dataset the
-- cursor of the last successful run, written in the transaction that publishes that run.
alter table hub.runs add column sync_cursor text;
create table hub.sync_cursors (
    dataset_id  text primary key references hub.datasets (id),
    cursor      text        not null,
    run_id      uuid        references hub.runs (id),
    updated_at  timestamptz not null
);

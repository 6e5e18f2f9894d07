-- The hub's own tables: catalogue, runs, lineage, quarantine, staging and published versions.
create schema if not exists hub;
create schema if not exists open_data;

create table hub.datasets (
    id               text primary key,
    agency_code      text        not null,
    agency_name      text        not null,
    title            text        not null,
    description      text,
    licence          text        not null,
    classification   text        not null,
    update_cycle     text        not null,
    schedule         text        not null,
    primary_key      text[]      not null,
    schema_version   int         not null,
    schema_json      jsonb       not null,
    config_revision  text        not null,
    source_file      text        not null,
    table_name       text        not null unique,
    current_version  bigint      not null default 0,
    row_count        bigint      not null default 0,
    registered_at    timestamptz not null,
    updated_at       timestamptz not null
);

create table hub.runs (
    id               uuid primary key,
    dataset_id       text        not null references hub.datasets (id),
    trigger          text        not null,
    status           text        not null check (status in ('running', 'succeeded', 'failed')),
    started_at       timestamptz not null,
    finished_at      timestamptz,
    batch_count      int,
    fetched          bigint,
    valid            bigint      not null default 0,
    quarantined      bigint      not null default 0,
    inserted         bigint      not null default 0,
    updated          bigint      not null default 0,
    unchanged        bigint      not null default 0,
    deleted          bigint      not null default 0,
    duplicates       bigint      not null default 0,
    version          bigint,
    config_revision  text        not null,
    schema_version   int         not null,
    error            text
);
create index runs_by_dataset on hub.runs (dataset_id, started_at desc);

-- Raw payloads, content-addressed by SHA-256 (claim check and lineage).
create table hub.payloads (
    sha256     text primary key,
    body       bytea       not null,
    stored_at  timestamptz not null
);

-- Every request a run made: URL (without secrets), time, status and the payload it returned.
create table hub.run_requests (
    run_id          uuid        not null references hub.runs (id),
    sequence        int         not null,
    url             text        not null,
    fetched_at      timestamptz not null,
    status_code     int         not null,
    payload_sha256  text        not null references hub.payloads (sha256),
    record_count    int         not null,
    primary key (run_id, sequence)
);

-- One row per batch the writer staged: the idempotency guard for redelivered messages.
create table hub.run_batches (
    run_id            uuid        not null references hub.runs (id),
    sequence          int         not null,
    request_sequence  int         not null,
    valid             int         not null,
    rejected          int         not null,
    staged_at         timestamptz not null,
    primary key (run_id, sequence)
);

-- Valid records of runs not yet published; emptied when the run ends either way.
create table hub.staged_records (
    run_id    uuid  not null,
    sequence  int   not null,
    ordinal   int   not null,
    key       text  not null,
    hash      text  not null,
    record    jsonb not null
);
create index staged_records_by_run on hub.staged_records (run_id, key);

-- Records that failed validation, kept whole with every reason.
create table hub.quarantine (
    id              bigint generated always as identity primary key,
    run_id          uuid        not null references hub.runs (id),
    dataset_id      text        not null references hub.datasets (id),
    sequence        int         not null,
    key             text,
    payload         text        not null,
    errors          jsonb       not null,
    schema_version  int         not null,
    created_at      timestamptz not null
);
create index quarantine_by_dataset on hub.quarantine (dataset_id, id);
create index quarantine_by_run on hub.quarantine (run_id, key);

-- Published versions of each dataset.
create table hub.versions (
    dataset_id    text        not null references hub.datasets (id),
    version       bigint      not null,
    run_id        uuid        not null references hub.runs (id),
    published_at  timestamptz not null,
    inserted      bigint      not null,
    updated       bigint      not null,
    deleted       bigint      not null,
    row_count     bigint      not null,
    primary key (dataset_id, version)
);

-- Versioned store, second step: run modes, tamper-evident audit chain, quarantine replay, quality.

-- 'full' runs replace the dataset (absent keys are deleted); 'partial' runs (replays, pushes) only add and update.
alter table hub.runs add column mode text not null default 'full' check (mode in ('full', 'partial'));

-- Digests of what each version wrote, recomputable from the dataset table by an auditor.
alter table hub.versions add column rows_digest text;
alter table hub.versions add column closed_digest text;

-- Runs, versions and audit events as a hash chain: hash = sha256(previous hash || canonical entry).
create table hub.audit_log (
    seq         bigint generated always as identity primary key,
    kind        text        not null,
    dataset_id  text,
    run_id      uuid,
    version     bigint,
    entry       jsonb       not null,
    prev_hash   text        not null,
    hash        text        not null unique,
    created_at  timestamptz not null
);
create index audit_log_by_dataset on hub.audit_log (dataset_id, seq);

-- A quarantined record that passed a later replay names the run that published it.
alter table hub.quarantine add column replayed_run_id uuid references hub.runs (id);

-- Cleanliness counted by the connector per batch: blank and untrimmed text values of valid records.
alter table hub.run_batches add column blank_values int not null default 0;
alter table hub.run_batches add column untrimmed_values int not null default 0;

-- Quality checks of each run (correct, complete, clean).
create table hub.run_quality (
    run_id      uuid primary key references hub.runs (id),
    dataset_id  text        not null references hub.datasets (id),
    checks      jsonb       not null,
    created_at  timestamptz not null
);
create index run_quality_by_dataset on hub.run_quality (dataset_id, created_at desc);

-- Raw payloads have a retention period; run requests keep the hash after the payload itself is gone.
alter table hub.run_requests drop constraint run_requests_payload_sha256_fkey;
create index payloads_by_age on hub.payloads (stored_at);

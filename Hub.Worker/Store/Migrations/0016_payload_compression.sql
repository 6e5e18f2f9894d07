-- Raw payloads are compressed with lz4 rather than PostgreSQL's default pglz: storing a page of 5,000 records took about
-- 37 ms with pglz and 8 ms with lz4, and lz4 stored it smaller (docs/performance.md). Payloads stored before keep pglz.
-- A server built without lz4 keeps pglz.
do $$
begin
    alter table hub.payloads alter column body set compression lz4;
exception when feature_not_supported then
    raise notice 'lz4 is not available in this PostgreSQL build: raw payloads stay compressed with pglz';
end $$;

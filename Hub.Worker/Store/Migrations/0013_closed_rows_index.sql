-- The index of the rows a version closed (<table>_to) leaves out current rows (_version_to null): nothing looks
-- them up by it, and every insert paid for them. Rebuilt for every open data table that has the full index.
do $$
declare
    t record;
begin
    for t in
        select tablename from pg_indexes
        where schemaname = 'open_data' and indexname = tablename || '_to' and indexdef not like '% WHERE %'
    loop
        execute format('drop index open_data.%I', t.tablename || '_to');
        execute format('create index %I on open_data.%I (_version_to) where _version_to is not null', t.tablename || '_to', t.tablename);
    end loop;
end $$;

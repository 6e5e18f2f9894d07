-- The key of an open data table sorts in byte order (collation "C"), whatever the database's default collation: its
-- indexes are built and searched with plain byte comparisons instead of the C library's collation (the three key
-- indexes of a 1,000,000-row version built in about half the time), "key order" is the same on every server, and a
-- C library upgrade cannot reorder an index. Under the C.UTF-8 collation that ./hub provisions the order is the same;
-- the key indexes of each table are rebuilt.
do $$
declare
    t record;
begin
    for t in
        select c.table_name from information_schema.columns c
        where c.table_schema = 'open_data' and c.column_name = '_key' and c.collation_name is distinct from 'C'
    loop
        execute format('alter table open_data.%I alter column _key type text collate "C"', t.table_name);
    end loop;
end $$;

-- Version entries of format 4 digest a version's rows over the columns its table had when it was published; the
-- entry lists them, so a column added later (by the hub's additive schema change or by hand) leaves it intact.
alter table hub.versions add column digest_columns text[];

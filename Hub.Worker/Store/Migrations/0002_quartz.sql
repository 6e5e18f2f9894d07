-- Quartz.NET keeps its clustered job store in this schema; Quartz creates its own tables there at
-- start (SchemaProvisioning.CreateIfMissing) and validates them, so they follow the Quartz version in use.
create schema if not exists quartz;

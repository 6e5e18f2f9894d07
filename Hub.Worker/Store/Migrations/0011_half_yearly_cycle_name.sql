-- The store writes a dataset's update cycle as the configuration and the freshness API do: half_yearly
-- (it wrote halfyearly before).
update hub.datasets set update_cycle = 'half_yearly' where update_cycle = 'halfyearly';
update hub.dataset_cycles set update_cycle = 'half_yearly' where update_cycle = 'halfyearly';

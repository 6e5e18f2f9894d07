-- Staff keys besides agency keys: one table of API keys, each with a role. An agency key ('agency') pushes and
-- confirms the data of its own agency (holder = agency code); a staff key reads raw payloads and quarantine
-- ('auditor') or also runs the connectors, replays and waivers ('operator'; holder = the person's name).
-- Only the SHA-256 of a key is kept, as before.
alter table hub.agency_keys rename to api_keys;
alter table hub.api_keys rename column agency_code to holder;
alter index hub.agency_keys_by_agency rename to api_keys_by_holder;
alter table hub.api_keys add column role text not null default 'agency'
    check (role in ('agency', 'operator', 'auditor'));
alter table hub.api_keys alter column role drop default;

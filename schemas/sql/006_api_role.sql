-- 006_api_role.sql — tb_api, the read-only role of timeline-api.
--
-- The API only reads; giving it a role that cannot write means a bug or an
-- injection in the API cannot change what the pipeline stored. Roles belong
-- to the whole cluster, so creation is idempotent and tolerates another
-- database's migrator creating it at the same moment. The role has no password
-- here (dev/test clusters trust loopback); production sets one out of band.
-- The migrator therefore needs CREATEROLE (or to be the superuser).
-- Tables added by later migrations get SELECT through the default privileges;
-- observation partitions need nothing (they are read through observations).

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tb_api') THEN
        BEGIN
            CREATE ROLE tb_api LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;  -- created concurrently by a migrator of another database
        END;
    END IF;
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO tb_api', current_database());
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO tb_api', current_schema());
    EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO tb_api', current_schema());
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT ON TABLES TO tb_api', current_schema());
END
$$;

-- Even a mistaken GRANT later cannot make its sessions write.
ALTER ROLE tb_api SET default_transaction_read_only = on;

-- Functions are executable by PUBLIC by default; the write paths are not for the API.
REVOKE EXECUTE ON FUNCTION tb_observations_partition(timestamptz) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION tb_observations_drop_before(timestamptz) FROM PUBLIC;

-- The generation of the reference data every request decides with: units, categories, time-limit
-- policies and the calendar. Any change to those tables bumps it, in the same transaction, by
-- these triggers, whichever path wrote (the admin API, the CLI, the demo seeder, another app
-- node). An app node keeps the reference data in memory and reloads it when a request's sign-in
-- check (which reads this row in the same statement) shows a newer generation than it holds.
-- Keep table and column names identical to migrations/sqlite/0006_reference_generation.sql.
CREATE TABLE reference_generation (
    id    BIGINT PRIMARY KEY CHECK (id = 1),
    value BIGINT NOT NULL
);
INSERT INTO reference_generation (id, value) VALUES (1, 1);

CREATE FUNCTION bump_reference_generation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE reference_generation SET value = value + 1 WHERE id = 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER units_bump_reference AFTER INSERT OR UPDATE OR DELETE ON units
    FOR EACH STATEMENT EXECUTE FUNCTION bump_reference_generation();
CREATE TRIGGER categories_bump_reference AFTER INSERT OR UPDATE OR DELETE ON categories
    FOR EACH STATEMENT EXECUTE FUNCTION bump_reference_generation();
CREATE TRIGGER policy_rules_bump_reference AFTER INSERT OR UPDATE OR DELETE ON policy_rules
    FOR EACH STATEMENT EXECUTE FUNCTION bump_reference_generation();
CREATE TRIGGER calendar_days_bump_reference AFTER INSERT OR UPDATE OR DELETE ON calendar_days
    FOR EACH STATEMENT EXECUTE FUNCTION bump_reference_generation();

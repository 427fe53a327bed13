-- The generation of the reference data every request decides with: units, categories, time-limit
-- policies and the calendar. Any change to those tables bumps it, in the same transaction, by
-- these triggers, whichever path wrote (the admin API, the CLI, the demo seeder, another app
-- node). An app node keeps the reference data in memory and reloads it when a request's sign-in
-- check (which reads this row in the same statement) shows a newer generation than it holds.
-- Keep table and column names identical to migrations/postgres/0006_reference_generation.sql.
CREATE TABLE reference_generation (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    value INTEGER NOT NULL
);
INSERT INTO reference_generation (id, value) VALUES (1, 1);

CREATE TRIGGER units_bump_reference_after_insert AFTER INSERT ON units
BEGIN UPDATE reference_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER units_bump_reference_after_update AFTER UPDATE ON units
BEGIN UPDATE reference_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER units_bump_reference_after_delete AFTER DELETE ON units
BEGIN UPDATE reference_generation SET value = value + 1 WHERE id = 1; END;

CREATE TRIGGER categories_bump_reference_after_insert AFTER INSERT ON categories
BEGIN UPDATE reference_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER categories_bump_reference_after_update AFTER UPDATE ON categories
BEGIN UPDATE reference_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER categories_bump_reference_after_delete AFTER DELETE ON categories
BEGIN UPDATE reference_generation SET value = value + 1 WHERE id = 1; END;

CREATE TRIGGER policy_rules_bump_reference_after_insert AFTER INSERT ON policy_rules
BEGIN UPDATE reference_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER policy_rules_bump_reference_after_update AFTER UPDATE ON policy_rules
BEGIN UPDATE reference_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER policy_rules_bump_reference_after_delete AFTER DELETE ON policy_rules
BEGIN UPDATE reference_generation SET value = value + 1 WHERE id = 1; END;

CREATE TRIGGER calendar_days_bump_reference_after_insert AFTER INSERT ON calendar_days
BEGIN UPDATE reference_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER calendar_days_bump_reference_after_update AFTER UPDATE ON calendar_days
BEGIN UPDATE reference_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER calendar_days_bump_reference_after_delete AFTER DELETE ON calendar_days
BEGIN UPDATE reference_generation SET value = value + 1 WHERE id = 1; END;

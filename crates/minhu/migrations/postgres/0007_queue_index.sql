-- A unit's work queue lists its orders newest registered first and takes each page from this
-- index alone: the unit's assignments in a state, with their orders' ids in order. The index it
-- replaces, (unit_id, state), made the database read every open order of the unit to sort
-- them, which at ten million orders (more than memory holds) took 717 ms for one page.
-- Keep identical to the other backend's 0007_queue_index.sql.
DROP INDEX assignments_unit_id_state;
CREATE INDEX assignments_unit_state_order ON assignments (unit_id, state, order_id);

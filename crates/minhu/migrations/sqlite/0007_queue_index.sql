-- A unit's work queue lists its orders newest registered first and takes each page from this
-- index alone: the unit's assignments in a state, with their orders' ids in order. The index it
-- replaces, (unit_id, state), made the database read every open order of the unit to sort
-- them, which at ten million orders (more than memory holds) took 717 ms for one page.
-- The queue's tabs also filter on the assignment's role, its handle deadline (即将超期 and 已超期
-- compare it with its start and with now) and a pending extension request: those columns follow
-- in the index, so a tab is counted from index entries alone. Without them every one of the
-- unit's assignments in the queue's states was read from the table: counting the heating
-- company's 23,364 assignments 办理中 at ten million orders took 96 ms.
-- Keep identical to the other backend's 0007_queue_index.sql.
DROP INDEX assignments_unit_id_state;
CREATE INDEX assignments_unit_state_order ON assignments (
    unit_id, state, order_id, role, handle_deadline_at, handle_start_at, ext_requested_at
);

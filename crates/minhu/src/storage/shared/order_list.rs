// Part of the shared storage code (see rows.rs for how these files are compiled): the order list
// ([`Store::list_orders`]) — its count, the bound of the ranking window for a text search, and
// the page.

/// One page of the orders matching `filter` within `scope`, with their total.
async fn list_orders_in(
    read: &ReadPool,
    filter: &OrderFilter,
    scope: &Scope,
    page: &PageRequest,
) -> StoreResult<OrderPage> {
    let unit_path = match filter.unit_id {
        Some(id) => Some(
            sqlx::query_scalar::<_, String>("SELECT path FROM units WHERE id = $1")
                .bind(id)
                .fetch_optional(read)
                .await?,
        ),
        None => None,
    };
    let category_path = match filter.category_id {
        Some(id) => Some(
            sqlx::query_scalar::<_, String>("SELECT path FROM categories WHERE id = $1")
                .bind(id)
                .fetch_optional(read)
                .await?,
        ),
        None => None,
    };
    let now = ms(filter.now.unwrap_or_else(Utc::now));

    // A text search counts at most COUNT_CAP matches: counting all 78,200 orders that
    // say 物业 cost 100 ms of the 50 a search may take, and no one pages through them.
    // The orders the list shows: joined to the text's matches, filtered and scoped.
    let push_matching = |qb: &mut QueryBuilder<Db>| {
        push_orders_source(qb, filter.text.as_ref());
        qb.push(" WHERE 1 = 1");
        push_order_filters(
            qb,
            filter,
            scope,
            unit_path.as_ref(),
            category_path.as_ref(),
            now,
        );
    };
    // With nothing but the text to apply (a centre user's plain search), the index alone
    // counts and bounds the matches, exactly and without reading an order: 物业 in 6 ms.
    let text_only = filter
        .text
        .as_ref()
        .filter(|_| matches!(scope, Scope::All) && filter.only_text());
    let mut count = QueryBuilder::<Db>::new(if filter.text.is_some() {
        "SELECT COUNT(*) FROM (SELECT 1 AS one"
    } else {
        "SELECT COUNT(*)"
    });
    // A unit's queue (its own assignments, nothing else) counts its orders in the
    // assignments' index alone instead of reading every order: 2,469 open orders of the
    // heating company took 51 ms to count through the orders at a million.
    let assignment_only = filter
        .assignment
        .as_ref()
        .filter(|_| matches!(scope, Scope::All) && filter.only_assignment());
    if let Some(text) = text_only {
        push_text_matches(&mut count, text);
    } else if let Some(assignment) = assignment_only {
        count = QueryBuilder::<Db>::new(
            "SELECT COUNT(DISTINCT q.order_id) FROM assignments q WHERE 1 = 1",
        );
        push_assignment_conditions(&mut count, assignment, now);
    } else {
        push_matching(&mut count);
    }
    // Only where the index counts its matches without reading them is the count exact.
    let exact_count = text_only.is_some() && INDEX_COUNTS_TEXT_MATCHES;
    if filter.text.is_some() {
        if !exact_count {
            push_limit(&mut count, COUNT_CAP + 1, 0);
        }
        count.push(") counted");
    }
    let capped = |total: i64| {
        let total_capped = filter.text.is_some() && !exact_count && total > COUNT_CAP;
        (if total_capped { COUNT_CAP } else { total }, total_capped)
    };
    if page.limit <= 0 {
        // A count only (the desk's and the queues' counters).
        let (total, total_capped) = capped(count.build_query_scalar().fetch_one(read).await?);
        return Ok(OrderPage {
            orders: Vec::new(),
            total,
            total_capped,
        });
    }
    // A text search counts first: the count decides how its page is ranked. Any other list
    // counts only when its page does not tell the total (see below).
    let counted = if filter.text.is_some() {
        Some(capped(count.build_query_scalar().fetch_one(read).await?))
    } else {
        None
    };
    let counted_total = counted.map_or(0, |(total, _)| total);

    // A common word matches tens of thousands of orders in a big city (物业: 78,200 of a
    // million), and ranking them all took 450 ms. The first pages rank the newest
    // RANK_WINDOW matches the user may see (the bound costs 14 ms there), which is what an
    // agent looks for; the total still counts them all, and later pages rank them all.
    let mut newest_bound: Option<i64> = None;
    if filter.text.is_some()
        && counted_total > RANK_WINDOW
        && page.offset.max(0) + page.limit <= RANK_WINDOW
    {
        let mut bound = QueryBuilder::<Db>::new("SELECT s.search_id");
        if let Some(text) = text_only {
            push_text_matches(&mut bound, text);
        } else {
            push_matching(&mut bound);
        }
        bound.push(" ORDER BY s.search_id DESC");
        push_limit(&mut bound, 1, RANK_WINDOW - 1);
        newest_bound = bound
            .build_query_scalar::<i64>()
            .fetch_optional(read)
            .await?;
    }

    let mut select = QueryBuilder::<Db>::new(
        "SELECT orders.*, (SELECT COUNT(*) FROM orders c WHERE c.parent_order_id = orders.id) \
         AS repeat_count",
    );
    // A work queue (orders picked by their assignments) lists them in the order they were
    // registered, newest first: the order's id. A unit's own queue then takes its page from
    // the assignments' index (unit, state, order) alone and reads only the page's orders.
    // Sorting by the orders' creation time read every open order of the unit first: 717 ms
    // for a page at ten million orders, where the orders no longer fit in memory.
    let (id_order, created_order) = if filter.oldest_first {
        (" ASC", " ORDER BY orders.created_at ASC, orders.id ASC")
    } else {
        (" DESC", " ORDER BY orders.created_at DESC, orders.id DESC")
    };
    if let Some(assignment) = assignment_only {
        select.push(" FROM orders WHERE orders.id IN (");
        push_queue_page_ids(&mut select, assignment, now, page, id_order);
        select.push(") ORDER BY orders.id").push(id_order);
    } else {
        push_matching(&mut select);
        if let Some(bound) = newest_bound {
            select.push(" AND s.search_id >= ").push_bind(bound);
        }
        if filter.text.is_some() {
            select.push(TEXT_RANK_ORDER);
        } else if filter.assignment.is_some() {
            select.push(" ORDER BY orders.id").push(id_order);
        } else {
            select.push(created_order);
        }
        push_limit(&mut select, page.limit, page.offset);
    }
    let rows = select.build().fetch_all(read).await?;
    let orders = rows
        .iter()
        .map(|row| {
            Ok(OrderListItem {
                order: order_from_row(row)?,
                lead_unit_id: col(row, "lead_unit_id")?,
                repeat_count: col(row, "repeat_count")?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    // A page that is not full and not past the end ends the list: it tells the total, and
    // the count is not run. The repeats of an order (every detail view) and most of a unit's
    // queues are such pages.
    let shown = i64::try_from(orders.len()).unwrap_or(i64::MAX);
    let offset = page.offset.max(0);
    let (total, total_capped) = match counted {
        Some(counted) => counted,
        None if shown < page.limit && (shown > 0 || offset == 0) => (offset + shown, false),
        None => capped(count.build_query_scalar().fetch_one(read).await?),
    };
    Ok(OrderPage {
        orders,
        total,
        total_capped,
    })
}

/// The ids of one page of the orders holding an assignment that matches `filter`, in order of id
/// (`id_order`: ` DESC` or ` ASC`), from the index `assignments (unit_id, state, order_id)`.
///
/// Each of the queue's states is read on its own, in the index's order, up to the end of the page
/// (`UNION ALL` of one ordered, limited branch per state), and the branches are merged. With the
/// states as one `IN`, PostgreSQL could not take the ids in order from the index and walked the
/// whole `order_id` index backwards instead, filtering, until it had 50: 182 ms at the 99th
/// percentile at a million orders. Any id of the page is within the first offset + limit ids of
/// its own state, so the merge finds them all.
fn push_queue_page_ids(
    qb: &mut QueryBuilder<Db>,
    filter: &super::AssignmentFilter,
    now: i64,
    page: &PageRequest,
    id_order: &str,
) {
    let through_page = page.offset.max(0) + page.limit.max(0);
    let branches: Vec<Vec<minhu_domain::AssignmentState>> = if filter.states.is_empty() {
        vec![Vec::new()]
    } else {
        filter.states.iter().map(|state| vec![*state]).collect()
    };
    qb.push("SELECT DISTINCT p.order_id FROM (");
    for (i, states) in branches.into_iter().enumerate() {
        if i > 0 {
            qb.push(" UNION ALL ");
        }
        let branch = super::AssignmentFilter {
            states,
            ..filter.clone()
        };
        qb.push(
            "SELECT b.order_id FROM (SELECT DISTINCT q.order_id FROM assignments q WHERE 1 = 1",
        );
        push_assignment_conditions(qb, &branch, now);
        qb.push(" ORDER BY q.order_id").push(id_order);
        push_limit(qb, through_page, 0);
        qb.push(") b");
    }
    qb.push(") p ORDER BY p.order_id").push(id_order);
    push_limit(qb, page.limit, page.offset);
}

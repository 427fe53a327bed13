// Part of the shared storage code (see rows.rs for how these files are compiled): attachments
// (附件), the files that come with an action, with their bytes in `order_attachments`
// (BLOB / BYTEA). They are written inside the transition's transaction
// (`save_transition_with_files` below), so a refused or failed action leaves
// none behind. Lists never read the bytes; only a download does.

use super::{Attachment, AttachmentFile, NewAttachment};

/// The columns of an attachment without its bytes, with the action of its history event
/// (`a` is `order_attachments`, `h` is `order_history`).
const ATTACHMENT_COLUMNS: &str = "a.id, a.order_id, a.history_id, h.action, a.uploaded_by, \
     a.unit_id, a.file_name, a.content_type, a.size_bytes, a.sha256, a.created_at";

fn attachment_from_row(row: &impl ResultRow) -> StoreResult<Attachment> {
    Ok(Attachment {
        id: col(row, "id")?,
        order_id: col(row, "order_id")?,
        history_id: col(row, "history_id")?,
        action: col(row, "action")?,
        uploaded_by: col(row, "uploaded_by")?,
        unit_id: col(row, "unit_id")?,
        file_name: col(row, "file_name")?,
        content_type: col(row, "content_type")?,
        size: col(row, "size_bytes")?,
        sha256: col(row, "sha256")?,
        created_at: ts_col(row, "created_at")?,
    })
}

/// Stores the files of history event `history_id` of order `order_id`, inside the transition's
/// transaction.
async fn insert_attachments(
    tx: &mut impl WriteTx,
    order_id: i64,
    history_id: i64,
    attachments: &[NewAttachment],
) -> StoreResult<()> {
    for file in attachments {
        let size = i64::try_from(file.content.len())
            .map_err(|_| StoreError::Database(anyhow!("attachment too large to store")))?;
        let mut values = Values::new();
        values
            .put("order_id", order_id)
            .put("history_id", history_id)
            .put("uploaded_by", file.uploaded_by)
            .put("unit_id", file.unit_id)
            .put("file_name", file.file_name.as_str())
            .put("content_type", file.content_type.as_str())
            .put("size_bytes", size)
            .put("sha256", file.sha256.as_str())
            .put("content", &file.content[..])
            .put("created_at", ms(file.created_at));
        let (sql, args) = multi_insert(values, "order_attachments", 1)?;
        tx.execute(&sql, args, true)
            .await
            .map_err(|err| classify(err, "id", "uploaded_by"))?;
    }
    Ok(())
}

/// Attachment `id` of order `order_id` with its bytes, if it is one of that order's.
async fn find_attachment_file(
    pool: &ReadPool,
    order_id: i64,
    id: i64,
) -> StoreResult<Option<AttachmentFile>> {
    let sql = format!(
        "SELECT {ATTACHMENT_COLUMNS}, a.content FROM order_attachments a \
         JOIN order_history h ON h.id = a.history_id \
         WHERE a.order_id = $1 AND a.id = $2"
    );
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(order_id)
        .bind(id)
        .fetch_optional(pool)
        .await?;
    row.map(|row| {
        Ok(AttachmentFile {
            attachment: attachment_from_row(&row)?,
            content: col(&row, "content")?,
        })
    })
    .transpose()
}

/// A transition to store ([`Store::save_transition_with_attachments`]), with what it needs that
/// was worked out before the write lock: owned, so that it can wait in the SQLite committer's
/// queue.
struct TransitionWrite {
    /// The version the order must still be at.
    expected_version: i64,
    transition: Transition,
    /// Files tied to the transition's first history event (a reply's 附件).
    attachments: Vec<NewAttachment>,
    /// The order's new search document, when the transition changes what it is found by.
    doc: Option<OrderSearchDocument>,
}

/// Gets a transition ready to store: a reply or answer changes what the order is found by, so
/// the new texts are cut now, before the write lock. The other assignments' replies are read as
/// committed; if anything committed on this order since, the version check refuses the
/// transition.
async fn prepare_transition_write(
    store: &BackendStore,
    expected_version: i64,
    transition: &Transition,
    attachments: &[NewAttachment],
) -> StoreResult<TransitionWrite> {
    let order = &transition.order;
    let doc = if transition_touches_text(transition) {
        let mut replies = read_replies(store, order.id).await?;
        for changed in &transition.assignments {
            replies.retain(|(id, _)| *id != changed.id || changed.id == 0);
            if let Some(reply) = &changed.reply {
                replies.push((changed.id, reply.clone()));
            }
        }
        Some(order_document(
            minhu_text::segmenter(),
            order,
            replies.iter().map(|(_, text)| text.as_str()),
        ))
    } else {
        None
    };
    Ok(TransitionWrite {
        expected_version,
        transition: transition.clone(),
        attachments: attachments.to_vec(),
        doc,
    })
}

/// Why a transition of order `order_id` was refused before it wrote: `Conflict` if the order is
/// there (at another version), else `NotFound`.
async fn refusal(tx: &mut impl WriteTx, order_id: i64) -> StoreResult<StoreError> {
    let exists: Option<RowId> = tx
        .fetch_optional(
            "SELECT id FROM orders WHERE id = $1",
            Values::key("id", order_id)?,
        )
        .await?;
    Ok(if exists.is_some() {
        StoreError::Conflict
    } else {
        StoreError::NotFound
    })
}

/// Writes a transition inside `tx` (which the caller commits): the order if it is still at the
/// expected version, its assignments, search document, history lines and files, and answers
/// with the order as its update returned it (`RETURNING *`) and its assignments read back. The
/// inner error is a refusal before anything was written (`Conflict`: the order moved on;
/// `NotFound`), which leaves `tx` as it was; the outer error came after some of it was written,
/// and only rolling `tx` (or its savepoint) back undoes it.
async fn write_transition(
    tx: &mut impl WriteTx,
    write: &TransitionWrite,
) -> StoreResult<StoreResult<OrderAggregate>> {
    let mut docs = SearchRows::default();
    let written = write_transition_rows(tx, write, &mut docs).await?;
    write_search_rows(tx, &docs.rows).await?;
    Ok(written)
}

/// [`write_transition`] without the search document, which goes to `docs` for the caller to
/// write ([`write_search_rows`]) as the last statement of the transaction; a refused
/// transition adds none.
async fn write_transition_rows(
    tx: &mut impl WriteTx,
    write: &TransitionWrite,
    docs: &mut SearchRows,
) -> StoreResult<StoreResult<OrderAggregate>> {
    let transition = &write.transition;
    let order = &transition.order;
    let lead_unit_id = lead_unit_of(&transition.assignments);
    // On SQLite the update assigns only the indexed columns that change (see
    // `unchanged_indexed_columns`); PostgreSQL compares the values itself (a HOT update).
    let mut values = if BACKEND_NAME == "sqlite" {
        match unchanged_indexed_columns(tx, order.id, write.expected_version, order, lead_unit_id)
            .await?
        {
            Some(unchanged) => Values::without(unchanged),
            None => return Ok(Err(refusal(tx, order.id).await?)),
        }
    } else {
        Values::new()
    };
    put_order_values(&mut values, order, lead_unit_id)?;
    values.put("version", write.expected_version + 1);
    let set = values.names.len();
    values
        .put("id", order.id)
        .put("version", write.expected_version);
    let (sql, args) = values.update("orders", set)?;
    let updated: Option<Order> = tx
        .fetch_optional(&format!("{sql} RETURNING *"), args)
        .await
        .map_err(|err| classify(err, "number", "category_id"))?;
    let Some(updated) = updated else {
        return Ok(Err(refusal(tx, order.id).await?));
    };

    for assignment in &transition.assignments {
        let mut values = Values::new();
        put_assignment_values(&mut values, assignment)?;
        if assignment.id == 0 {
            values.put("order_id", order.id);
            let (sql, args) = values.insert("assignments")?;
            tx.fetch_one::<RowId>(&sql, args)
                .await
                .map_err(|err| classify(err, "id", "unit_id"))?;
        } else {
            let set = values.names.len();
            values.put("id", assignment.id).put("order_id", order.id);
            let (sql, args) = values.update("assignments", set)?;
            let changed = tx
                .execute(&sql, args, true)
                .await
                .map_err(|err| classify(err, "id", "unit_id"))?;
            if changed == 0 {
                return Err(StoreError::Database(anyhow!(
                    "assignment {} does not belong to order {}",
                    assignment.id,
                    order.id
                )));
            }
        }
    }

    if let Some(doc) = &write.doc {
        docs.push(order.id, doc.clone());
    }
    let event_ids = insert_events(tx, order.id, &transition.events).await?;
    if !write.attachments.is_empty() {
        // The files belong to the action's own event, the transition's first.
        let history_id = event_ids.first().copied().ok_or_else(|| {
            StoreError::Database(anyhow!(
                "attachments given with a transition without events"
            ))
        })?;
        insert_attachments(tx, order.id, history_id, &write.attachments).await?;
    }

    let assignments = tx
        .fetch(
            ORDER_ASSIGNMENTS_SQL,
            Values::key("order_id", updated.id)?,
            true,
        )
        .await?;
    Ok(Ok(OrderAggregate {
        order: updated,
        assignments,
    }))
}

// Part of the shared storage code (see rows.rs for how these files are compiled): attachments
// (附件), the files that come with an action, with their bytes in `order_attachments`
// (BLOB / BYTEA). They are written inside the transition's transaction
// (`save_transition_with_attachments` in operations.rs), so a refused or failed action leaves
// none behind. Lists never read the bytes; only a download does.

use super::{Attachment, AttachmentFile, NewAttachment};

/// The columns of an attachment without its bytes, with the action of its history event
/// (`a` is `order_attachments`, `h` is `order_history`).
const ATTACHMENT_COLUMNS: &str = "a.id, a.order_id, a.history_id, h.action, a.uploaded_by, \
     a.unit_id, a.file_name, a.content_type, a.size_bytes, a.sha256, a.created_at";

fn attachment_from_row(row: &DbRow) -> StoreResult<Attachment> {
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
    tx: &mut Tx,
    order_id: i64,
    history_id: i64,
    attachments: &[NewAttachment],
) -> StoreResult<()> {
    for file in attachments {
        let size = i64::try_from(file.content.len())
            .map_err(|_| StoreError::Database(anyhow!("attachment too large to store")))?;
        sqlx::query(
            "INSERT INTO order_attachments \
             (order_id, history_id, uploaded_by, unit_id, file_name, content_type, size_bytes, \
              sha256, content, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(order_id)
        .bind(history_id)
        .bind(file.uploaded_by)
        .bind(file.unit_id)
        .bind(file.file_name.as_str())
        .bind(file.content_type.as_str())
        .bind(size)
        .bind(file.sha256.as_str())
        .bind(&file.content[..])
        .bind(ms(file.created_at))
        .execute(&mut **tx)
        .await
        .map_err(|err| classify(err, "id", "uploaded_by"))?;
    }
    Ok(())
}

/// The attachments of an order without their bytes, oldest first.
async fn list_attachments(pool: &Pool, order_id: i64) -> StoreResult<Vec<Attachment>> {
    let sql = format!(
        "SELECT {ATTACHMENT_COLUMNS} FROM order_attachments a \
         JOIN order_history h ON h.id = a.history_id \
         WHERE a.order_id = $1 ORDER BY a.id"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(order_id)
        .fetch_all(pool)
        .await?;
    rows.iter().map(attachment_from_row).collect()
}

/// Attachment `id` of order `order_id` with its bytes, if it is one of that order's.
async fn find_attachment_file(
    pool: &Pool,
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

//! Attachments (附件) as storage keeps them: the files that come with an action (a unit's reply,
//! 办结反馈), stored with their bytes in `order_attachments` and tied to the action's history
//! event. What may be stored (count, size, type, name) is decided by the service before.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// A checked file to store with a transition (see [`super::Store::save_transition_with_attachments`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAttachment {
    /// Who uploaded it.
    pub uploaded_by: i64,
    /// The uploader's unit.
    pub unit_id: i64,
    /// The sanitised original file name (no path, no control characters).
    pub file_name: String,
    /// The content type the service determined (from the leading bytes and the extension).
    pub content_type: String,
    /// Lower-case hex SHA-256 of `content`.
    pub sha256: String,
    pub content: bytes::Bytes,
    pub created_at: DateTime<Utc>,
}

/// A stored attachment without its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Attachment {
    pub id: i64,
    pub order_id: i64,
    /// The history event (`order_history.id`) of the action the file came with.
    pub history_id: i64,
    /// That event's action code, e.g. `reply`.
    pub action: String,
    /// The uploader (user id).
    pub uploaded_by: i64,
    /// The uploader's unit.
    pub unit_id: i64,
    /// The original file name, sanitised.
    pub file_name: String,
    pub content_type: String,
    /// Size in bytes.
    pub size: i64,
    /// Lower-case hex SHA-256 of the content.
    pub sha256: String,
    pub created_at: DateTime<Utc>,
}

/// A stored attachment with its bytes (a download).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentFile {
    pub attachment: Attachment,
    pub content: Vec<u8>,
}

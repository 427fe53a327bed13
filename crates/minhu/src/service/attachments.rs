//! Attachments (附件): the files a unit sends with its reply (办结反馈) — photos of the mended
//! street lamp, a scanned letter, a PDF.
//!
//! Files arrive with the action ([`App::act_on_order_with_files`]) and are checked only after the
//! domain has accepted the action: at most [`MAX_FILES`], each at most [`MAX_FILE_BYTES`], of an
//! allowed kind judged by the file's leading bytes *and* its extension (the client's declared
//! content type is ignored), under a sanitised name. They are stored in the same transaction as
//! the transition, tied to its history event, so a refused action stores none and an
//! acknowledged one has all of them. Downloads are scope-checked like viewing the order.

use bytes::Bytes;
use chrono::{DateTime, Utc};
use minhu_domain::{Actor, Transition};
use sha2::{Digest as _, Sha256};

use super::{App, AppError, AppResult};
use crate::storage::{AttachmentFile, NewAttachment};

/// The most files one action may carry.
pub const MAX_FILES: usize = 5;
/// The largest file accepted, in bytes (10 MiB).
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;
/// The largest request body of a route that takes files: every file at its largest, and 1 MiB
/// for the text fields and the multipart framing.
pub const MAX_UPLOAD_BODY_BYTES: usize = MAX_FILES * MAX_FILE_BYTES + 1024 * 1024;
/// The longest stored file name, in characters (the extension is kept when cutting).
pub const FILE_NAME_MAX_CHARS: usize = 120;
/// The actions that may carry files.
pub const ACTIONS_WITH_FILES: &[&str] = &["reply"];
/// The allowed extensions, as an `<input type="file" accept=…>` list.
pub const ACCEPT: &str = ".jpg,.jpeg,.png,.gif,.webp,.pdf,.doc,.docx,.xls,.xlsx,.txt";
/// The allowed kinds, for people.
pub const ALLOWED_LABEL: &str =
    "图片（JPG、PNG、GIF、WebP）、PDF、Word（DOC、DOCX）、Excel（XLS、XLSX）或 TXT";

/// A file as a client sent it, not yet checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Upload {
    /// The name the client gave, as sent (may carry a path).
    pub file_name: String,
    /// The bytes; empty when the file was cut for being too large.
    pub content: Bytes,
    /// The file was longer than [`MAX_FILE_BYTES`]; the reader kept none of it.
    pub too_large: bool,
}

/// The refusal of a file: a stable code (the API's `error.code`, field `files`) and a message.
fn refuse(code: &'static str, message: impl Into<String>) -> AppError {
    AppError::File {
        code,
        message: message.into(),
    }
}

/// How many bytes, for people: `856 B`, `12.5 KB`, `1.2 MB`, `10 MB` (units of 1024).
#[must_use]
pub fn human_size(bytes: i64) -> String {
    const KB: f64 = 1024.0;
    #[allow(clippy::cast_precision_loss)] // sizes are far below 2^52
    let b = bytes.max(0) as f64;
    let (value, unit) = if b < KB {
        return format!("{bytes} B");
    } else if b < KB * KB {
        (b / KB, "KB")
    } else {
        (b / (KB * KB), "MB")
    };
    let text = format!("{value:.1}");
    format!("{} {unit}", text.strip_suffix(".0").unwrap_or(&text))
}

/// Characters that change how text is shown without being seen (bidi overrides, zero-width
/// marks): a name like `invoice<U+202E>fdp.exe` must not pass for a PDF.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// A file name fit to store and show: the last path component (`/` or `\`), without control and
/// invisible formatting characters, characters Windows forbids replaced by `_`, trimmed, no
/// leading dots, at most [`FILE_NAME_MAX_CHARS`] characters (the extension kept). Chinese stays
/// as it is. `None` when nothing is left.
#[must_use]
pub fn sanitize_file_name(raw: &str) -> Option<String> {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !is_invisible(*c))
        .map(|c| match c {
            '<' | '>' | ':' | '"' | '|' | '?' | '*' => '_',
            other => other,
        })
        .collect();
    let name = cleaned.trim().trim_start_matches('.').trim();
    if name.is_empty() {
        return None;
    }
    let count = name.chars().count();
    if count <= FILE_NAME_MAX_CHARS {
        return Some(name.to_owned());
    }
    let ext = extension(name).filter(|e| e.chars().count() < 16);
    let keep = FILE_NAME_MAX_CHARS - ext.map_or(0, |e| e.chars().count() + 1);
    let stem: String = name.chars().take(keep).collect();
    Some(match ext {
        Some(e) => format!("{}.{e}", stem.trim_end()),
        None => stem,
    })
}

/// The extension of a name (after the last dot), if any.
fn extension(name: &str) -> Option<&str> {
    name.rsplit_once('.')
        .map(|(_, ext)| ext)
        .filter(|e| !e.is_empty())
}

/// The OLE2 compound-file signature (doc, xls, and also msi, ppt …).
fn is_ole2(buf: &[u8]) -> bool {
    buf.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1])
}

/// A ZIP local-file header (docx, xlsx, and every other ZIP).
fn is_zip(buf: &[u8]) -> bool {
    buf.starts_with(b"PK\x03\x04")
}

/// Plain text: no NUL byte at the start and no known binary signature.
fn is_text(buf: &[u8]) -> bool {
    let head = &buf[..buf.len().min(8192)];
    !head.contains(&0)
        && infer::get(buf).is_none_or(|t| t.matcher_type() == infer::MatcherType::Text)
}

/// The content type of a file named with extension `ext` (lower case) whose bytes are `buf`, if
/// it is an allowed kind and its leading bytes agree with the extension. Office files must be
/// the container of their kind (OLE2 for doc/xls, ZIP for docx/xlsx) and not recognisably
/// another Office kind.
#[must_use]
pub fn detect_content_type(ext: &str, buf: &[u8]) -> Option<&'static str> {
    use infer::doc;
    let other_ole = || doc::is_ppt(buf);
    let other_ooxml = || doc::is_pptx(buf);
    let (fits, content_type) = match ext {
        "jpg" | "jpeg" => (infer::image::is_jpeg(buf), "image/jpeg"),
        "png" => (infer::image::is_png(buf), "image/png"),
        "gif" => (infer::image::is_gif(buf), "image/gif"),
        "webp" => (infer::image::is_webp(buf), "image/webp"),
        "pdf" => (infer::archive::is_pdf(buf), "application/pdf"),
        "doc" => (
            is_ole2(buf) && !doc::is_xls(buf) && !other_ole(),
            "application/msword",
        ),
        "xls" => (
            is_ole2(buf) && !doc::is_doc(buf) && !other_ole(),
            "application/vnd.ms-excel",
        ),
        "docx" => (
            is_zip(buf) && !doc::is_xlsx(buf) && !other_ooxml(),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        "xlsx" => (
            is_zip(buf) && !doc::is_docx(buf) && !other_ooxml(),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        "txt" => (
            is_text(buf),
            if std::str::from_utf8(buf).is_ok() {
                "text/plain; charset=utf-8"
            } else {
                "text/plain"
            },
        ),
        _ => (false, ""),
    };
    fits.then_some(content_type)
}

/// Checks the files of one action by `uploaded_by` of `unit_id` at `at`: count, name, size,
/// kind; hashes them. Refusals carry the codes `too_many_files`, `invalid_file_name`,
/// `file_too_large`, `empty_file` and `file_type_not_allowed`, all about field `files`.
pub fn check_uploads(
    uploads: Vec<Upload>,
    uploaded_by: i64,
    unit_id: i64,
    at: DateTime<Utc>,
) -> AppResult<Vec<NewAttachment>> {
    if uploads.len() > MAX_FILES {
        return Err(refuse(
            "too_many_files",
            format!("每次最多上传{MAX_FILES}个附件"),
        ));
    }
    let limit = human_size(i64::try_from(MAX_FILE_BYTES).unwrap_or(i64::MAX));
    uploads
        .into_iter()
        .map(|upload| {
            let file_name = sanitize_file_name(&upload.file_name)
                .ok_or_else(|| refuse("invalid_file_name", "附件须有文件名"))?;
            if upload.too_large || upload.content.len() > MAX_FILE_BYTES {
                return Err(refuse(
                    "file_too_large",
                    format!("附件“{file_name}”超过{limit}，请压缩后再上传"),
                ));
            }
            if upload.content.is_empty() {
                return Err(refuse("empty_file", format!("附件“{file_name}”是空文件")));
            }
            let ext = extension(&file_name).map(str::to_ascii_lowercase);
            let content_type = ext
                .as_deref()
                .and_then(|ext| detect_content_type(ext, &upload.content))
                .ok_or_else(|| {
                    refuse(
                        "file_type_not_allowed",
                        format!(
                            "附件“{file_name}”的类型不允许或与扩展名不符：只能上传{ALLOWED_LABEL}文件"
                        ),
                    )
                })?;
            let digest = Sha256::digest(&upload.content);
            Ok(NewAttachment {
                uploaded_by,
                unit_id,
                file_name,
                content_type: content_type.to_owned(),
                sha256: digest.iter().map(|b| format!("{b:02x}")).collect(),
                content: upload.content,
                created_at: at,
            })
        })
        .collect()
}

/// Notes the files in the action's history event (`details.attachments`: how many), as plain
/// data next to what the domain wrote.
fn note_in_event(transition: &mut Transition, count: usize) {
    if let Some(serde_json::Value::Object(details)) =
        transition.events.first_mut().map(|e| &mut e.details)
    {
        details.insert("attachments".to_owned(), serde_json::Value::from(count));
    }
}

impl App {
    /// Checks `uploads` for an accepted `transition` of action `code` by `actor`, then stores
    /// the transition and the files in one transaction (see [`App::act_on_order_with_files`]).
    pub(crate) async fn save_with_files(
        &self,
        actor: &Actor,
        code: &str,
        expected_version: i64,
        mut transition: Transition,
        uploads: Vec<Upload>,
    ) -> AppResult<minhu_domain::OrderAggregate> {
        if !ACTIONS_WITH_FILES.contains(&code) {
            return Err(refuse("attachments_not_allowed", "该操作不能附加文件"));
        }
        let at = transition
            .events
            .first()
            .map_or_else(|| self.now(), |e| e.at);
        let (user_id, unit_id) = (actor.user_id, actor.unit.id);
        // Hashing up to 50 MB is CPU work: off the async threads.
        let files =
            tokio::task::spawn_blocking(move || check_uploads(uploads, user_id, unit_id, at))
                .await
                .map_err(|e| AppError::Internal(e.into()))??;
        note_in_event(&mut transition, files.len());
        Ok(self
            .store
            .save_transition_with_attachments(expected_version, &transition, &files)
            .await?)
    }

    /// Attachment `id` of order `number` with its bytes, if the actor may see the order (else
    /// `not_found`, as for the order itself).
    pub async fn attachment_file(
        &self,
        actor: &Actor,
        number: &str,
        id: i64,
    ) -> AppResult<AttachmentFile> {
        let aggregate = self.visible_order(actor, number).await?;
        self.store
            .attachment_file(aggregate.order.id, id)
            .await?
            .ok_or(AppError::NotFound { what: "附件" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    #[test]
    fn names_are_sanitised() {
        assert_eq!(
            sanitize_file_name("C:\\Users\\张三\\路灯 修复后.JPG").as_deref(),
            Some("路灯 修复后.JPG")
        );
        assert_eq!(
            sanitize_file_name("../../etc/passwd").as_deref(),
            Some("passwd")
        );
        assert_eq!(
            sanitize_file_name("a\u{0}b\r\n\u{202E}c.pdf").as_deref(),
            Some("abc.pdf")
        );
        assert_eq!(
            sanitize_file_name(" .hidden.txt ").as_deref(),
            Some("hidden.txt")
        );
        assert_eq!(
            sanitize_file_name("a\"b<c>.txt").as_deref(),
            Some("a_b_c_.txt")
        );
        assert_eq!(sanitize_file_name("/tmp/"), None);
        assert_eq!(sanitize_file_name(" \u{7} "), None);
        let long = format!("{}.docx", "长".repeat(300));
        let cut = sanitize_file_name(&long).unwrap_or_default();
        assert_eq!(cut.chars().count(), FILE_NAME_MAX_CHARS);
        assert!(cut.ends_with("长.docx"));
    }

    #[test]
    fn kinds_come_from_bytes_and_extension() {
        assert_eq!(detect_content_type("png", PNG), Some("image/png"));
        assert_eq!(
            detect_content_type("jpg", PNG),
            None,
            "PNG bytes named .jpg"
        );
        assert_eq!(
            detect_content_type("pdf", b"%PDF-1.7\n"),
            Some("application/pdf")
        );
        assert_eq!(detect_content_type("exe", b"MZ\x90\0"), None);
        assert_eq!(detect_content_type("txt", b"MZ\x90\0\x03\0\0\0"), None);
        assert_eq!(
            detect_content_type("txt", "路灯已修复".as_bytes()),
            Some("text/plain; charset=utf-8")
        );
        assert_eq!(detect_content_type("txt", PNG), None);
        assert_eq!(
            detect_content_type("docx", b"PK\x03\x04rest"),
            Some("application/vnd.openxmlformats-officedocument.wordprocessingml.document")
        );
        assert_eq!(detect_content_type("docx", b"%PDF-1.4"), None);
        assert_eq!(detect_content_type("svg", b"<svg/>"), None);
    }

    #[test]
    fn uploads_are_checked() {
        let at = Utc::now();
        let file = |name: &str, bytes: &'static [u8]| Upload {
            file_name: name.to_owned(),
            content: Bytes::from_static(bytes),
            too_large: false,
        };
        let ok = check_uploads(vec![file("a.png", PNG)], 1, 2, at).unwrap_or_default();
        assert_eq!(ok.len(), 1);
        assert_eq!(ok[0].content_type, "image/png");
        assert_eq!(ok[0].sha256.len(), 64);
        let code = |uploads| {
            check_uploads(uploads, 1, 2, at)
                .err()
                .map(|e| (e.code(), e.field().map(str::to_owned)))
        };
        assert_eq!(
            code(vec![file("a.png", PNG); 6]),
            Some(("too_many_files", Some("files".to_owned())))
        );
        assert_eq!(
            code(vec![file("a.exe", PNG)]).map(|c| c.0),
            Some("file_type_not_allowed")
        );
        assert_eq!(
            code(vec![file("a.png", b"")]).map(|c| c.0),
            Some("empty_file")
        );
        assert_eq!(
            code(vec![file("///", PNG)]).map(|c| c.0),
            Some("invalid_file_name")
        );
        let big = Upload {
            too_large: true,
            ..file("big.pdf", b"")
        };
        assert_eq!(code(vec![big]).map(|c| c.0), Some("file_too_large"));
    }

    #[test]
    fn sizes_for_people() {
        assert_eq!(human_size(856), "856 B");
        assert_eq!(human_size(12_800), "12.5 KB");
        assert_eq!(human_size(1_258_291), "1.2 MB");
        assert_eq!(human_size(10 * 1024 * 1024), "10 MB");
    }
}

//! 导出Excel: the order list under the same filters as `/orders`, as an .xlsx download. All
//! matching rows up to [`crate::service::orders::EXPORT_CAP`]; phones masked for everyone (as in the list); every export
//! audited by [`App::export_orders`].

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Router, http::StatusCode};
use rust_xlsxwriter::{Format, Workbook, XlsxError};

use super::error::WebError;
use super::format::{datetime_cn, opt_datetime_cn, warning_badge};
use super::layout::Layout;
use super::list::ListQuery;
use super::session::WebSession;
use crate::http::extract::ClientAddress;
use crate::service::App;
use crate::service::orders::warning_of;

/// The export's routes.
pub fn routes() -> Router<App> {
    Router::new().route("/orders/export.xlsx", get(export))
}

/// The header row.
pub const HEADER: [&str; 10] = [
    "工单编号",
    "标题",
    "类型",
    "分类",
    "区域",
    "状态",
    "预警",
    "时限",
    "来电号码",
    "登记时间",
];

/// `GET /orders/export.xlsx?<the list's filters>`.
pub async fn export(
    State(app): State<App>,
    session: WebSession,
    ClientAddress(address): ClientAddress,
    Query(q): Query<ListQuery>,
) -> Result<Response, WebError> {
    let tz = Layout::new(&app, &session, "导出", "/orders").tz;
    let mut notes = Vec::new();
    let mut filter = q.filter(tz, &mut notes);
    filter.text = app.text_filter(&session.actor, &q.q);
    let (items, refs) = tokio::try_join!(
        app.export_orders(&session.actor, filter, Some(&address)),
        app.reference_data()
    )?;
    let now = app.now();
    let rows: Vec<[String; 10]> = items
        .iter()
        .map(|item| {
            let o = &item.order;
            [
                o.number.clone(),
                o.title.clone(),
                o.order_type.label().to_owned(),
                refs.category_path(o.category_id),
                o.location
                    .district_id
                    .map_or_else(String::new, |id| refs.unit_name(id)),
                o.state.label().to_owned(),
                warning_badge(warning_of(o, now)).map_or_else(String::new, |b| b.text),
                opt_datetime_cn(o.active_deadline.map(|d| d.deadline_at), tz),
                o.citizen.phone.clone(),
                datetime_cn(o.created_at, tz),
            ]
        })
        .collect();
    let bytes = tokio::task::spawn_blocking(move || workbook(&rows))
        .await
        .map_err(|err| internal(&err.to_string()))?
        .map_err(|err| internal(&err.to_string()))?;
    let filename = format!(
        "orders-{}.xlsx",
        now.with_timezone(&tz).format("%Y%m%d-%H%M")
    );
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        bytes,
    )
        .into_response())
}

fn internal(message: &str) -> WebError {
    tracing::error!(message, "export failed");
    WebError::Page {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        title: "导出失败",
        message: "生成Excel文件时出错，请稍后重试".to_owned(),
    }
}

/// The workbook: one sheet 工单导出, a bold frozen header row, then the rows as text.
fn workbook(rows: &[[String; 10]]) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("工单导出")?;
    let bold = Format::new().set_bold();
    for (col, title) in (0u16..).zip(HEADER) {
        sheet.write_string_with_format(0, col, title, &bold)?;
    }
    for (col, width) in (0u16..).zip([18.0, 40.0, 8.0, 24.0, 10.0, 10.0, 10.0, 20.0, 14.0, 20.0]) {
        sheet.set_column_width(col, width)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    for (row, cells) in (1u32..).zip(rows) {
        for (col, cell) in (0u16..).zip(cells) {
            sheet.write_string(row, col, cell)?;
        }
    }
    book.save_to_buffer()
}

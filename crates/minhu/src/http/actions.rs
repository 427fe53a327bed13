//! The lifecycle actions, one route each: `POST /api/v1/orders/{number}/{action}` with the
//! action's fields and an optional `version` (the order version the client saw).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use minhu_domain::Action;
use minhu_domain::action::{
    Appeal, CloseDirect, Dispatch, Instruct, Merge, Note, Redispatch, Reject, Reply,
    RequestExtension, RequestReturn, Review, ReviewAppeal, ReviewExtension, ReviewReturn, Sign,
    Transfer, Visit,
};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::borrow::Cow;

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type};
use utoipa::{PartialSchema, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiResult, StdErrors};
use super::extract::{ApiJsonValue, ApiPath, CurrentActor, from_json_value};
use super::orders::view_of;
use super::views::OrderView;
use crate::service::App;

/// Adds the optional `version` property to an action payload's object schema.
fn with_version(schema: RefOr<Schema>) -> RefOr<Schema> {
    match schema {
        RefOr::T(Schema::Object(mut object)) => {
            let version = ObjectBuilder::new()
                .schema_type(SchemaType::from_iter([Type::Integer, Type::Null]))
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
                .description(Some(
                    "The order version the client saw; when the order has changed since, the \
                     action is refused with 409 `version_conflict`.",
                ))
                .build();
            object
                .properties
                .insert("version".to_owned(), RefOr::T(Schema::Object(version)));
            RefOr::T(Schema::Object(object))
        }
        other => other,
    }
}

/// Declares the request-body schema of each action payload: its fields plus `version`.
macro_rules! action_bodies {
    ($( $marker:ident => $payload:ident ),+ $(,)?) => {
        $(
            #[doc = concat!("The body of an action taking [`", stringify!($payload),
                "`]: its fields and, optionally, `version` (for the OpenAPI document).")]
            pub struct $marker;

            impl PartialSchema for $marker {
                fn schema() -> RefOr<Schema> {
                    with_version(<$payload as PartialSchema>::schema())
                }
            }

            impl ToSchema for $marker {
                fn name() -> Cow<'static, str> {
                    Cow::Borrowed(stringify!($marker))
                }

                fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
                    <$payload as ToSchema>::schemas(schemas);
                }
            }
        )+
    };
}

action_bodies! {
    CloseDirectRequest => CloseDirect,
    RejectRequest => Reject,
    TransferRequest => Transfer,
    MergeRequest => Merge,
    DispatchRequest => Dispatch,
    SignRequest => Sign,
    RequestReturnRequest => RequestReturn,
    ReviewReturnRequest => ReviewReturn,
    RedispatchRequest => Redispatch,
    RequestExtensionRequest => RequestExtension,
    ReviewExtensionRequest => ReviewExtension,
    ReplyRequest => Reply,
    ReviewRequest => Review,
    VisitRequest => Visit,
    AppealRequest => Appeal,
    ReviewAppealRequest => ReviewAppeal,
    NoteRequest => Note,
    InstructRequest => Instruct,
}

/// Splits `version` off an action body and reads the rest as the action's fields.
pub(crate) fn split_version<T: DeserializeOwned>(
    body: Value,
) -> Result<(Option<i64>, T), ApiError> {
    let Value::Object(mut map) = body else {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_type",
            "请求内容须为 JSON 对象",
        ));
    };
    let version = match map.remove("version") {
        None | Some(Value::Null) => None,
        Some(value) => Some(value.as_i64().ok_or_else(|| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_type",
                "字段类型不正确：version",
            )
            .with_field("version")
        })?),
    };
    let payload = from_json_value(Value::Object(map))?;
    Ok((version, payload))
}

async fn run(
    app: &App,
    actor: &minhu_domain::Actor,
    number: &str,
    action: Action,
    version: Option<i64>,
) -> ApiResult<Json<OrderView>> {
    let detail = app
        .act_on_order_detail(actor, number, action, version, Vec::new())
        .await?;
    view_of(app, detail).await.map(Json)
}

macro_rules! actions {
    ($( $name:ident, $path:tt, $payload:ident, $body:ident, $variant:ident, $summary:tt; )+) => {
        $(
            #[doc = $summary]
            #[utoipa::path(post, path = $path, tag = "actions", summary = $summary,
                params(("number" = String, Path, description = "工单编号")),
                request_body = $body,
                responses((status = 200, description = "操作后的工单", body = OrderView), StdErrors))]
            async fn $name(
                State(app): State<App>,
                CurrentActor(actor): CurrentActor,
                ApiPath(number): ApiPath<String>,
                ApiJsonValue(body): ApiJsonValue,
            ) -> ApiResult<Json<OrderView>> {
                let (version, payload) = split_version::<$payload>(body)?;
                run(&app, &actor, &number, Action::$variant(payload), version).await
            }
        )+

        /// The routes of every action.
        pub(crate) fn routes() -> OpenApiRouter<App> {
            OpenApiRouter::new()$(.routes(routes!($name)))+
        }

        /// The action codes with a route, in lifecycle order.
        #[cfg(test)]
        const ROUTED: &[&str] = &[$(stringify!($name)),+];
    };
}

actions! {
    close_direct, "/api/v1/orders/{number}/close_direct", CloseDirect, CloseDirectRequest, CloseDirect, "直接办结";
    reject, "/api/v1/orders/{number}/reject", Reject, RejectRequest, Reject, "不予受理";
    transfer, "/api/v1/orders/{number}/transfer", Transfer, TransferRequest, Transfer, "转110/119/120/122";
    merge, "/api/v1/orders/{number}/merge", Merge, MergeRequest, Merge, "并单";
    dispatch, "/api/v1/orders/{number}/dispatch", Dispatch, DispatchRequest, Dispatch, "派单（主办+协办）";
    sign, "/api/v1/orders/{number}/sign", Sign, SignRequest, Sign, "签收";
    request_return, "/api/v1/orders/{number}/request_return", RequestReturn, RequestReturnRequest, RequestReturn, "退单申请";
    review_return, "/api/v1/orders/{number}/review_return", ReviewReturn, ReviewReturnRequest, ReviewReturn, "退单审核（同意改派或驳回）";
    redispatch, "/api/v1/orders/{number}/redispatch", Redispatch, RedispatchRequest, Redispatch, "分中心转派";
    request_extension, "/api/v1/orders/{number}/request_extension", RequestExtension, RequestExtensionRequest, RequestExtension, "延期申请";
    review_extension, "/api/v1/orders/{number}/review_extension", ReviewExtension, ReviewExtensionRequest, ReviewExtension, "延期审核";
    reply, "/api/v1/orders/{number}/reply", Reply, ReplyRequest, Reply, "办结反馈";
    review, "/api/v1/orders/{number}/review", Review, ReviewRequest, Review, "审核办结反馈";
    visit, "/api/v1/orders/{number}/visit", Visit, VisitRequest, Visit, "回访（可重办）";
    appeal, "/api/v1/orders/{number}/appeal", Appeal, AppealRequest, Appeal, "申诉（不予考核申请）";
    review_appeal, "/api/v1/orders/{number}/review_appeal", ReviewAppeal, ReviewAppealRequest, ReviewAppeal, "申诉审核";
    urge, "/api/v1/orders/{number}/urge", Note, NoteRequest, Urge, "催办";
    supervise, "/api/v1/orders/{number}/supervise", Note, NoteRequest, Supervise, "督办";
    escalate, "/api/v1/orders/{number}/escalate", Note, NoteRequest, Escalate, "呈报领导";
    instruct, "/api/v1/orders/{number}/instruct", Instruct, InstructRequest, Instruct, "领导批示";
}

/// Any other `…/{number}/{action}`: 404 `unknown_action`.
pub(crate) async fn unknown_action(
    ApiPath((_number, action)): ApiPath<(String, String)>,
) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "unknown_action",
        format!("没有名为“{action}”的工单操作"),
    )
    .with_field("action")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_has_a_route() {
        assert_eq!(ROUTED, Action::CODES);
    }

    #[test]
    fn version_is_split_off() {
        let (version, sign): (_, Sign) =
            split_version(serde_json::json!({"version": 3, "unit_id": 7})).unwrap();
        assert_eq!((version, sign.unit_id), (Some(3), Some(7)));
        let e = split_version::<Sign>(serde_json::json!({"version": "x"})).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("version"));
        let e = split_version::<Note>(serde_json::json!({"nope": 1, "note": "x"})).unwrap_err();
        assert_eq!(
            (e.code.as_ref(), e.field.as_deref()),
            ("unknown_field", Some("nope"))
        );
        let e = split_version::<Note>(serde_json::json!([])).unwrap_err();
        assert_eq!(e.code, "invalid_type");
    }
}

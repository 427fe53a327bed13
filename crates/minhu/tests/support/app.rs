//! A running minhu server on a test database, with a small seeded city and HTTP helpers.
//!
//! [`start`] seeds the [`Fixture`] (a city centre, a district sub-centre with a street and a
//! community, a water and a gas company, one user per role, a three-level category tree, the
//! official calendar and the default time limits), then serves the API on `127.0.0.1:<random>`
//! with connection info, as `minhu serve` does.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test support fails by panicking

use std::collections::BTreeMap;
use std::net::SocketAddr;

use minhu::service::App;
use minhu::storage::{Category, NewCatalogueEntry, NewCategory, NewUnit};
use minhu_domain::{Role, UnitInfo, UnitKind};
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::db::TestDb;

/// The password of every fixture account.
pub const PASSWORD: &str = "test-pass-1";

/// The small city every API test starts from.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// 市12345热线中心 (kind `city_centre`).
    pub centre: UnitInfo,
    /// 东城区分中心: a district sub-centre, a dispatch point.
    pub district: UnitInfo,
    /// 东华门街道, in the district.
    pub street: UnitInfo,
    /// 多福巷社区, in the street.
    pub community: UnitInfo,
    /// 市自来水集团 (enterprise).
    pub water: UnitInfo,
    /// 市燃气集团 (enterprise).
    pub gas: UnitInfo,
    /// 城乡建设 (level 1).
    pub cat_root: Category,
    /// 城乡建设 › 供水 (level 2).
    pub cat_water: Category,
    /// 城乡建设 › 供水 › 停水 (level 3).
    pub cat_water_cut: Category,
    /// 城乡建设 › 燃气 (level 2).
    pub cat_gas: Category,
    /// 城乡建设 › 燃气 › 燃气泄漏 (level 3).
    pub cat_gas_leak: Category,
    /// User ids by username.
    pub users: BTreeMap<String, i64>,
}

impl Fixture {
    /// The id of a fixture user.
    #[must_use]
    pub fn user(&self, username: &str) -> i64 {
        *self
            .users
            .get(username)
            .unwrap_or_else(|| panic!("no fixture user {username}"))
    }

    /// A valid registration body: a water cut in the street, citizen 13812345678.
    #[must_use]
    pub fn new_order(&self) -> Value {
        json!({
            "channel": "phone",
            "citizen": {
                "name": "张三",
                "phone": "13812345678",
                "gender": "male",
                "tags": ["elderly"]
            },
            "order_type": "complaint",
            "category_id": self.cat_water_cut.id,
            "title": "小区停水三天无人处理",
            "content": "东华门街道多福巷12号楼自周一起停水，至今未恢复，物业称已报修。",
            "tags": ["民生"],
            "urgency": "normal",
            "location": {
                "district_id": self.district.id,
                "street_id": self.street.id,
                "community_id": self.community.id,
                "address": "多福巷12号楼"
            }
        })
    }
}

/// A server on its own database.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    pub app: App,
    pub client: reqwest::Client,
    pub fixture: Fixture,
    db: TestDb,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn unit(
    app: &App,
    code: &str,
    name: &str,
    kind: UnitKind,
    parent: Option<&UnitInfo>,
    dispatch_point: bool,
) -> UnitInfo {
    app.store
        .create_unit(&NewUnit {
            code: code.to_owned(),
            name: name.to_owned(),
            kind,
            parent_id: parent.map(|p| p.id),
            is_dispatch_point: dispatch_point,
        })
        .await
        .unwrap_or_else(|e| panic!("create unit {code}: {e}"))
}

async fn category(app: &App, code: &str, name: &str, parent: Option<&Category>) -> Category {
    app.store
        .create_category(&NewCategory {
            code: code.to_owned(),
            name: name.to_owned(),
            parent_id: parent.map(|p| p.id),
        })
        .await
        .unwrap_or_else(|e| panic!("create category {code}: {e}"))
}

/// Seeds the fixture city through the app (bootstrap: centre, admin, calendar, default limits).
async fn seed(app: &App) -> Fixture {
    app.bootstrap_with_admin_password(Some(PASSWORD.to_owned()))
        .await
        .expect("bootstrap the test database");
    let centre = app
        .store
        .list_units()
        .await
        .expect("list units")
        .into_iter()
        .find(|u| u.kind == UnitKind::CityCentre)
        .expect("bootstrap created the centre");
    let district = unit(
        app,
        "D01",
        "东城区分中心",
        UnitKind::DistrictCentre,
        Some(&centre),
        true,
    )
    .await;
    let street = unit(
        app,
        "D01-S01",
        "东华门街道",
        UnitKind::Street,
        Some(&district),
        false,
    )
    .await;
    let community = unit(
        app,
        "D01-S01-C01",
        "多福巷社区",
        UnitKind::Community,
        Some(&street),
        false,
    )
    .await;
    let water = unit(
        app,
        "E-WATER",
        "市自来水集团",
        UnitKind::Enterprise,
        Some(&centre),
        false,
    )
    .await;
    let gas = unit(
        app,
        "E-GAS",
        "市燃气集团",
        UnitKind::Enterprise,
        Some(&centre),
        false,
    )
    .await;

    let cat_root = category(app, "03", "城乡建设", None).await;
    let cat_water = category(app, "0301", "供水", Some(&cat_root)).await;
    let cat_water_cut = category(app, "030101", "停水", Some(&cat_water)).await;
    let cat_gas = category(app, "0302", "燃气", Some(&cat_root)).await;
    let cat_gas_leak = category(app, "030201", "燃气泄漏", Some(&cat_gas)).await;
    for (category_id, unit_id) in [(cat_water.id, water.id), (cat_gas.id, gas.id)] {
        app.store
            .create_catalogue_entry(&NewCatalogueEntry {
                category_id,
                district_id: None,
                unit_id,
                note: None,
            })
            .await
            .expect("create a catalogue entry");
    }

    let accounts: [(&str, &str, &UnitInfo, &[Role]); 9] = [
        ("agent1", "话务员一", &centre, &[Role::Agent]),
        ("dispatcher1", "派单员一", &centre, &[Role::Dispatcher]),
        ("supervisor1", "督查员一", &centre, &[Role::Supervisor]),
        ("visitor1", "回访员一", &centre, &[Role::Visitor]),
        ("leader1", "领导一", &centre, &[Role::Leader]),
        (
            "district1",
            "东城区分中心派单员",
            &district,
            &[Role::SubCentre],
        ),
        ("street1", "东华门街道经办人", &street, &[Role::UnitHandler]),
        (
            "unit_water1",
            "自来水集团经办人",
            &water,
            &[Role::UnitHandler],
        ),
        ("unit_gas1", "燃气集团经办人", &gas, &[Role::UnitHandler]),
    ];
    let mut users = BTreeMap::new();
    for (username, name, unit, roles) in accounts {
        let user = app
            .create_user_with_password(username, name, unit.id, roles, PASSWORD)
            .await
            .unwrap_or_else(|e| panic!("create user {username}: {e}"));
        users.insert(username.to_owned(), user.id);
    }
    let admin = app
        .store
        .find_user_by_username("admin")
        .await
        .expect("find admin")
        .expect("bootstrap created admin");
    users.insert("admin".to_owned(), admin.id);

    Fixture {
        centre,
        district,
        street,
        community,
        water,
        gas,
        cat_root,
        cat_water,
        cat_water_cut,
        cat_gas,
        cat_gas_leak,
        users,
    }
}

/// Seeds `db` and serves the API on a random local port.
pub async fn start(db: TestDb) -> TestApp {
    eprintln!("== on {}", db.backend.name());
    let app = db.app();
    let fixture = seed(&app).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a local port");
    let address = listener.local_addr().expect("local address");
    let router = minhu::http::router(app.clone());
    let server = tokio::spawn(async move {
        let service = router.into_make_service_with_connect_info::<SocketAddr>();
        if let Err(e) = axum::serve(listener, service).await {
            eprintln!("test server stopped: {e}");
        }
    });
    TestApp {
        base: format!("http://{address}"),
        app,
        client: reqwest::Client::new(),
        fixture,
        db,
        server,
    }
}

/// A status and a JSON body (`Value::Null` for an empty or non-JSON body; then `text` has it).
pub type Answer = (StatusCode, Value);

impl TestApp {
    /// `sqlite` or `postgres`.
    #[must_use]
    pub fn backend(&self) -> &'static str {
        self.db.backend.name()
    }

    /// Signs `username` in with the fixture password and returns the token.
    pub async fn login(&self, username: &str) -> String {
        let (status, body) = self
            .post(
                "",
                "/api/v1/auth/login",
                json!({"username": username, "password": PASSWORD}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "login {username}: {body}");
        body["token"]
            .as_str()
            .unwrap_or_else(|| panic!("no token in {body}"))
            .to_owned()
    }

    /// Sends a request with an optional bearer token (`""` for none) and JSON body.
    pub async fn send(
        &self,
        method: reqwest::Method,
        token: &str,
        path: &str,
        body: Option<Value>,
    ) -> Answer {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if !token.is_empty() {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("send a request");
        read(response).await
    }

    /// GET with a token.
    pub async fn get(&self, token: &str, path: &str) -> Answer {
        self.send(reqwest::Method::GET, token, path, None).await
    }

    /// POST JSON with a token.
    pub async fn post(&self, token: &str, path: &str, body: Value) -> Answer {
        self.send(reqwest::Method::POST, token, path, Some(body))
            .await
    }

    /// PATCH JSON with a token.
    pub async fn patch(&self, token: &str, path: &str, body: Value) -> Answer {
        self.send(reqwest::Method::PATCH, token, path, Some(body))
            .await
    }

    /// PUT JSON with a token.
    pub async fn put(&self, token: &str, path: &str, body: Value) -> Answer {
        self.send(reqwest::Method::PUT, token, path, Some(body))
            .await
    }

    /// DELETE with a token.
    pub async fn delete(&self, token: &str, path: &str) -> Answer {
        self.send(reqwest::Method::DELETE, token, path, None).await
    }

    /// POSTs a raw body with a content type (for malformed input).
    pub async fn post_raw(
        &self,
        token: &str,
        path: &str,
        content_type: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> Answer {
        let mut request = self.client.post(format!("{}{path}", self.base)).body(body);
        if !token.is_empty() {
            request = request.bearer_auth(token);
        }
        if let Some(content_type) = content_type {
            request = request.header(reqwest::header::CONTENT_TYPE, content_type);
        }
        read(request.send().await.expect("send a request")).await
    }

    /// Registers the fixture's standard order as `agent1` (or the given token) and returns it.
    pub async fn register(&self, token: &str, body: Value) -> Value {
        let (status, order) = self.post(token, "/api/v1/orders", body).await;
        assert_eq!(status, StatusCode::CREATED, "register: {order}");
        order
    }

    /// Runs a lifecycle action; returns the answer.
    pub async fn act(&self, token: &str, number: &str, action: &str, body: Value) -> Answer {
        self.post(token, &format!("/api/v1/orders/{number}/{action}"), body)
            .await
    }

    /// Runs a lifecycle action that must succeed; returns the order after it.
    pub async fn act_ok(&self, token: &str, number: &str, action: &str, body: Value) -> Value {
        let (status, order) = self.act(token, number, action, body).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{action} on {number} ({}): {order}",
            self.backend()
        );
        order
    }

    /// The order as `token`'s user sees it (must be visible).
    pub async fn order(&self, token: &str, number: &str) -> Value {
        let (status, order) = self.get(token, &format!("/api/v1/orders/{number}")).await;
        assert_eq!(status, StatusCode::OK, "get {number}: {order}");
        order
    }
}

async fn read(response: reqwest::Response) -> Answer {
    let status = response.status();
    let bytes = response.bytes().await.expect("read the body");
    let value = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
        if bytes.is_empty() {
            Value::Null
        } else {
            Value::String(String::from_utf8_lossy(&bytes).into_owned())
        }
    });
    (status, value)
}

/// Asserts an error envelope with `code` (and `field` when given) and the status.
#[track_caller]
pub fn assert_error(answer: &Answer, status: StatusCode, code: &str, field: Option<&str>) {
    let (got, body) = answer;
    assert_eq!(*got, status, "status of {body}");
    assert_eq!(body["error"]["code"], code, "code of {body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "message of {body}"
    );
    if let Some(field) = field {
        assert_eq!(body["error"]["field"], field, "field of {body}");
    }
}

/// The action codes of an order's history, oldest first.
#[must_use]
pub fn history_actions(order: &Value) -> Vec<String> {
    order["history"]
        .as_array()
        .map(|h| {
            h.iter()
                .filter_map(|e| e["action"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

//! The admin API: units, users, categories, policies and the dispatch catalogue; reads open to
//! every signed-in person where intake needs them, changes for admins only, each audited.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests fail by panicking

use crate::support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::app::{PASSWORD, assert_error, start};
use support::db::all_backends;

fn find<'a>(list: &'a Value, key: &str, value: &Value) -> Option<&'a Value> {
    list.as_array()?.iter().find(|x| &x[key] == value)
}

#[tokio::test]
async fn units_crud() {
    for db in all_backends().await {
        let t = start(db).await;
        let f = &t.fixture;
        let admin = t.login("admin").await;
        let agent = t.login("agent1").await;

        // Everyone signed in reads the flat list with parents and paths.
        let (status, units) = t.get(&agent, "/api/v1/admin/units").await;
        assert_eq!(status, StatusCode::OK, "{units}");
        let street = find(&units, "id", &json!(f.street.id)).expect("the street");
        assert_eq!(street["parent_id"], f.district.id);
        assert_eq!(street["path"], f.street.path.as_str());
        assert_eq!(street["kind"], "street");

        let body = json!({"code": "D01-S02", "name": "景山街道", "kind": "street", "parent_id": f.district.id});
        let answer = t.post(&agent, "/api/v1/admin/units", body.clone()).await;
        assert_error(&answer, StatusCode::FORBIDDEN, "forbidden", None);
        let (status, created) = t.post(&admin, "/api/v1/admin/units", body.clone()).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        assert_eq!(created["parent_id"], f.district.id);
        assert!(
            created["path"]
                .as_str()
                .is_some_and(|p| p.starts_with(&f.district.path))
        );
        assert_eq!(created["active"], true);
        let answer = t.post(&admin, "/api/v1/admin/units", body).await;
        assert_error(&answer, StatusCode::CONFLICT, "duplicate", Some("code"));
        let answer = t
            .post(
                &admin,
                "/api/v1/admin/units",
                json!({"code": "X1", "name": "无上级", "kind": "bureau", "parent_id": 999_999}),
            )
            .await;
        assert_error(
            &answer,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some("parent_id"),
        );
        let answer = t
            .post(
                &admin,
                "/api/v1/admin/units",
                json!({"code": "X2", "name": "x", "kind": "ministry", "parent_id": f.centre.id}),
            )
            .await;
        assert_error(
            &answer,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
            Some("kind"),
        );
        let answer = t
            .post(
                &admin,
                "/api/v1/admin/units",
                json!({"code": "坏编码", "name": "x", "kind": "bureau", "parent_id": f.centre.id}),
            )
            .await;
        assert_error(
            &answer,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some("code"),
        );

        let id = created["id"].as_i64().expect("an id");
        let (status, updated) = t
            .patch(
                &admin,
                &format!("/api/v1/admin/units/{id}"),
                json!({"name": "景山街道办事处", "active": false}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{updated}");
        assert_eq!(updated["name"], "景山街道办事处");
        assert_eq!(updated["active"], false);
        let answer = t
            .patch(
                &agent,
                &format!("/api/v1/admin/units/{id}"),
                json!({"name": "x"}),
            )
            .await;
        assert_error(&answer, StatusCode::FORBIDDEN, "forbidden", None);
        let answer = t
            .patch(&admin, "/api/v1/admin/units/999999", json!({"name": "x"}))
            .await;
        assert_error(&answer, StatusCode::NOT_FOUND, "not_found", None);
        let answer = t
            .patch(
                &admin,
                &format!("/api/v1/admin/units/{id}"),
                json!({"parent_id": 1}),
            )
            .await;
        assert_error(
            &answer,
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_field",
            Some("parent_id"),
        );
    }
}

#[tokio::test]
async fn users_crud_and_duplicate_username() {
    for db in all_backends().await {
        let t = start(db).await;
        let f = &t.fixture;
        let admin = t.login("admin").await;
        let agent = t.login("agent1").await;

        let answer = t.get(&agent, "/api/v1/admin/users").await;
        assert_error(&answer, StatusCode::FORBIDDEN, "forbidden", None);
        let (status, users) = t.get(&admin, "/api/v1/admin/users").await;
        assert_eq!(status, StatusCode::OK, "{users}");
        assert!(users.as_array().is_some_and(|u| u.len() >= 10));
        assert!(
            !users.to_string().contains("argon2"),
            "password hashes leak"
        );
        assert!(users[0].get("password_hash").is_none());

        let body = json!({
            "username": "unit_water2",
            "display_name": "自来水集团经办人二",
            "unit_id": f.water.id,
            "roles": ["unit_handler", "unit_leader"],
            "password": "water-pass-2"
        });
        let answer = t.post(&agent, "/api/v1/admin/users", body.clone()).await;
        assert_error(&answer, StatusCode::FORBIDDEN, "forbidden", None);
        let (status, user) = t.post(&admin, "/api/v1/admin/users", body.clone()).await;
        assert_eq!(status, StatusCode::CREATED, "{user}");
        assert_eq!(user["roles"], json!(["unit_handler", "unit_leader"]));
        assert!(user.get("password").is_none() && user.get("password_hash").is_none());
        let (status, login) = t
            .post(
                "",
                "/api/v1/auth/login",
                json!({"username": "unit_water2", "password": "water-pass-2"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{login}");

        let answer = t.post(&admin, "/api/v1/admin/users", body.clone()).await;
        assert_error(&answer, StatusCode::CONFLICT, "duplicate", Some("username"));
        for (key, value, code, field) in [
            ("username", json!("x"), "invalid_field", "username"),
            ("password", json!("short"), "invalid_field", "password"),
            ("roles", json!([]), "invalid_field", "roles"),
            ("roles", json!(["overlord"]), "invalid_value", "roles[0]"),
            ("unit_id", json!(999_999), "invalid_field", "unit_id"),
        ] {
            let mut bad = body.clone();
            bad["username"] = json!("another_user");
            bad[key] = value;
            let answer = t.post(&admin, "/api/v1/admin/users", bad).await;
            assert_error(&answer, StatusCode::UNPROCESSABLE_ENTITY, code, Some(field));
        }

        let id = user["id"].as_i64().expect("an id");
        let (status, updated) = t
            .patch(
                &admin,
                &format!("/api/v1/admin/users/{id}"),
                json!({"display_name": "王五", "roles": ["unit_leader"], "unit_id": f.gas.id}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{updated}");
        assert_eq!(updated["display_name"], "王五");
        assert_eq!(updated["roles"], json!(["unit_leader"]));
        assert_eq!(updated["unit_id"], f.gas.id);

        // Reset the password, then deactivate: the account can no longer sign in.
        let (status, _) = t
            .post(
                &admin,
                &format!("/api/v1/admin/users/{id}/password"),
                json!({"password": "reset-pass-3"}),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, _) = t
            .post(
                "",
                "/api/v1/auth/login",
                json!({"username": "unit_water2", "password": "reset-pass-3"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = t
            .patch(
                &admin,
                &format!("/api/v1/admin/users/{id}"),
                json!({"active": false}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let answer = t
            .post(
                "",
                "/api/v1/auth/login",
                json!({"username": "unit_water2", "password": "reset-pass-3"}),
            )
            .await;
        assert_error(
            &answer,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            None,
        );

        // An admin cannot lock themselves out.
        let me = f.user("admin");
        let answer = t
            .patch(
                &admin,
                &format!("/api/v1/admin/users/{me}"),
                json!({"active": false}),
            )
            .await;
        assert_error(
            &answer,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some("active"),
        );
        let answer = t
            .post(
                &admin,
                "/api/v1/admin/users/999999/password",
                json!({"password": PASSWORD}),
            )
            .await;
        assert_error(&answer, StatusCode::NOT_FOUND, "not_found", None);

        // Each change is audited.
        let (_, audit) = t.get(&admin, "/api/v1/admin/audit?limit=200").await;
        for action in ["create_user", "update_user", "reset_password"] {
            let line = find(&audit, "action", &json!(action))
                .unwrap_or_else(|| panic!("no {action} in {audit}"));
            assert_eq!(line["user_id"], me);
            assert_eq!(line["target"], "unit_water2");
        }
    }
}

#[tokio::test]
async fn categories_policies_and_catalogue_crud() {
    for db in all_backends().await {
        let t = start(db).await;
        let f = &t.fixture;
        let admin = t.login("admin").await;
        let agent = t.login("agent1").await;

        // Categories: read by all, at most four levels.
        let (status, categories) = t.get(&agent, "/api/v1/admin/categories").await;
        assert_eq!(status, StatusCode::OK);
        let leaf = find(&categories, "id", &json!(f.cat_water_cut.id)).expect("the leaf");
        assert_eq!(leaf["level"], 3);
        assert_eq!(leaf["parent_id"], f.cat_water.id);
        let body = json!({"code": "03010101", "name": "计划停水", "parent_id": f.cat_water_cut.id});
        let answer = t
            .post(&agent, "/api/v1/admin/categories", body.clone())
            .await;
        assert_error(&answer, StatusCode::FORBIDDEN, "forbidden", None);
        let (status, level4) = t
            .post(&admin, "/api/v1/admin/categories", body.clone())
            .await;
        assert_eq!(status, StatusCode::CREATED, "{level4}");
        assert_eq!(level4["level"], 4);
        let answer = t.post(&admin, "/api/v1/admin/categories", body).await;
        assert_error(&answer, StatusCode::CONFLICT, "duplicate", Some("code"));
        let answer = t
            .post(
                &admin,
                "/api/v1/admin/categories",
                json!({"code": "0301010101", "name": "第五级", "parent_id": level4["id"]}),
            )
            .await;
        assert_error(
            &answer,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some("parent_id"),
        );
        let id = level4["id"].as_i64().expect("an id");
        let (status, renamed) = t
            .patch(
                &admin,
                &format!("/api/v1/admin/categories/{id}"),
                json!({"name": "计划性停水"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{renamed}");
        assert_eq!(renamed["name"], "计划性停水");

        // Policies: a 5-working-day handling limit on the water category.
        let answer = t.get(&agent, "/api/v1/admin/policies").await;
        assert_error(&answer, StatusCode::FORBIDDEN, "forbidden", None);
        let (status, policies) = t.get(&admin, "/api/v1/admin/policies").await;
        assert_eq!(status, StatusCode::OK);
        let defaults = policies.as_array().map_or(0, Vec::len);
        let rule = json!({"category_id": f.cat_water.id, "step": "handle", "limit": {"amount": 5, "unit": "working_days"}});
        let answer = t.post(&agent, "/api/v1/admin/policies", rule.clone()).await;
        assert_error(&answer, StatusCode::FORBIDDEN, "forbidden", None);
        let (status, created) = t.post(&admin, "/api/v1/admin/policies", rule).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        assert_eq!(
            created["limit"],
            json!({"amount": 5, "unit": "working_days"})
        );
        let answer = t
            .post(&admin, "/api/v1/admin/policies", json!({"category_id": f.cat_water.id, "step": "handle", "limit": {"amount": 0, "unit": "working_days"}}))
            .await;
        assert_error(
            &answer,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some("limit.amount"),
        );
        let answer = t
            .post(
                &admin,
                "/api/v1/admin/policies",
                json!({"step": "lunch", "limit": {"amount": 1, "unit": "working_days"}}),
            )
            .await;
        assert_error(
            &answer,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
            Some("step"),
        );
        let (_, policies) = t.get(&admin, "/api/v1/admin/policies").await;
        assert_eq!(policies.as_array().map_or(0, Vec::len), defaults + 1);
        let pid = created["id"].as_i64().expect("an id");
        let (status, _) = t
            .delete(&admin, &format!("/api/v1/admin/policies/{pid}"))
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let answer = t
            .delete(&admin, &format!("/api/v1/admin/policies/{pid}"))
            .await;
        assert_error(&answer, StatusCode::NOT_FOUND, "not_found", None);

        // Catalogue.
        let answer = t.get(&agent, "/api/v1/admin/catalogue").await;
        assert_error(&answer, StatusCode::FORBIDDEN, "forbidden", None);
        let (status, catalogue) = t.get(&admin, "/api/v1/admin/catalogue").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(catalogue.as_array().map(Vec::len), Some(2));
        let entry = json!({"category_id": f.cat_gas_leak.id, "district_id": f.district.id, "unit_id": f.street.id, "note": "辖区内先由街道核实"});
        let answer = t
            .post(&agent, "/api/v1/admin/catalogue", entry.clone())
            .await;
        assert_error(&answer, StatusCode::FORBIDDEN, "forbidden", None);
        let (status, created) = t.post(&admin, "/api/v1/admin/catalogue", entry).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let (_, suggested) = t
            .get(
                &agent,
                &format!(
                    "/api/v1/dispatch/suggestions?category_id={}&district_id={}",
                    f.cat_gas_leak.id, f.district.id
                ),
            )
            .await;
        assert_eq!(suggested[0]["id"], f.street.id, "{suggested}");
        let answer = t
            .post(
                &admin,
                "/api/v1/admin/catalogue",
                json!({"category_id": f.cat_gas.id, "unit_id": f.centre.id}),
            )
            .await;
        assert_error(
            &answer,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some("unit_id"),
        );
        let eid = created["id"].as_i64().expect("an id");
        let (status, _) = t
            .delete(&admin, &format!("/api/v1/admin/catalogue/{eid}"))
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (_, catalogue) = t.get(&admin, "/api/v1/admin/catalogue").await;
        assert_eq!(catalogue.as_array().map(Vec::len), Some(2));

        // The audit log: admins only, newest lines, every change there.
        let answer = t.get(&agent, "/api/v1/admin/audit").await;
        assert_error(&answer, StatusCode::FORBIDDEN, "forbidden", None);
        let (status, audit) = t.get(&admin, "/api/v1/admin/audit?limit=100").await;
        assert_eq!(status, StatusCode::OK);
        for action in [
            "create_category",
            "update_category",
            "create_policy",
            "delete_policy",
            "create_catalogue_entry",
            "delete_catalogue_entry",
        ] {
            assert!(
                find(&audit, "action", &json!(action)).is_some(),
                "no {action} in {audit}"
            );
        }
        let (_, two) = t.get(&admin, "/api/v1/admin/audit?limit=2").await;
        assert_eq!(two.as_array().map(Vec::len), Some(2));
    }
}

//! The storage of the organisation and its settings, on every backend (SQLite and PostgreSQL):
//! units, users, tokens, login failures, categories, policies, the calendar, the dispatch
//! catalogue, the audit log and backups. Each test starts from fresh databases.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
use crate::support::db;

#[allow(dead_code)]
use crate::support::builders;

use chrono::Duration;
use minhu::storage::{
    CategoryPatch, LoginFailureCounts, NewAuditEntry, NewCatalogueEntry, NewPolicyRule, NewToken,
    OrderFilter, Scope, SqliteStore, Store, StoreError, UnitPatch, UserPatch,
};
use minhu_domain::calendar::CalendarDay;
use minhu_domain::{CalendarDayKind, LimitStep, OrderType, Role, TimeLimit, UnitKind, Urgency};

use builders::{
    Categories, Units, at, category, create_categories, create_units, day, page, seed_orders,
    seed_org, unit, user,
};
use db::Backend;

#[tokio::test]
async fn stores_open_and_migrate_again_as_a_no_op() {
    for db in db::all_backends().await {
        let store: &dyn Store = db.store.as_ref();
        assert_eq!(store.backend(), db.backend.name());
        store.ping().await.unwrap();
        // Migrating again is a no-op.
        store.migrate().await.unwrap();
    }
}

#[tokio::test]
async fn units_form_a_tree_with_materialised_paths() {
    for db in db::all_backends().await {
        let store: &dyn Store = db.store.as_ref();
        let Units {
            centre,
            district,
            street,
            ..
        } = create_units(store).await;
        assert_eq!(centre.path, format!("/{}/", centre.id));
        assert_eq!(centre.parent_id, None);
        assert!(centre.active);
        assert_eq!(district.path, format!("/{}/{}/", centre.id, district.id));
        assert!(district.is_dispatch_point);
        assert_eq!(street.path, format!("{}{}/", district.path, street.id));
        assert!(district.contains(&street));
        assert!(matches!(
            store.create_unit(&unit("B-WATER", UnitKind::Bureau, Some(centre.id))).await,
            Err(StoreError::Duplicate { field }) if field == "code"
        ));
        assert!(matches!(
            store.create_unit(&unit("X", UnitKind::Bureau, Some(9_999_999))).await,
            Err(StoreError::InvalidReference { field }) if field == "parent_id"
        ));
    }
}

#[tokio::test]
async fn units_are_updated_listed_and_found() {
    for db in db::all_backends().await {
        let store: &dyn Store = db.store.as_ref();
        let Units {
            centre,
            district,
            street,
            bureau,
            idle,
        } = create_units(store).await;
        let renamed = store
            .update_unit(
                bureau.id,
                &UnitPatch {
                    name: Some("市水务局".to_owned()),
                    is_dispatch_point: None,
                    active: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(renamed.name, "市水务局");
        assert_eq!(renamed.path, bureau.path);
        let bureau = renamed;
        let idle = store
            .update_unit(
                idle.id,
                &UnitPatch {
                    name: None,
                    is_dispatch_point: Some(true),
                    active: Some(false),
                },
            )
            .await
            .unwrap();
        assert!(idle.is_dispatch_point && !idle.active);
        assert!(matches!(
            store.update_unit(9_999_999, &UnitPatch::default()).await,
            Err(StoreError::NotFound)
        ));
        assert_eq!(store.count_units().await.unwrap(), 5);
        assert_eq!(
            store.list_units().await.unwrap(),
            vec![
                centre.clone(),
                district.clone(),
                street.clone(),
                bureau.clone(),
                idle.clone()
            ]
        );
        assert_eq!(
            store.find_unit(street.id).await.unwrap(),
            Some(street.clone())
        );
        assert_eq!(store.find_unit(9_999_999).await.unwrap(), None);
        assert_eq!(
            store
                .units_by_ids(&[bureau.id, street.id, 9_999_999])
                .await
                .unwrap(),
            vec![street.clone(), bureau.clone()]
        );
        assert!(store.units_by_ids(&[]).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn users_are_created_and_found() {
    for db in db::all_backends().await {
        let store: &dyn Store = db.store.as_ref();
        let Units { centre, street, .. } = create_units(store).await;
        let admin = store
            .create_user(&user(
                "admin",
                centre.id,
                vec![Role::Admin, Role::Dispatcher],
            ))
            .await
            .unwrap();
        assert_eq!(admin.roles, vec![Role::Admin, Role::Dispatcher]);
        assert!(admin.active);
        let handler = store
            .create_user(&user("street.handler", street.id, vec![Role::UnitHandler]))
            .await
            .unwrap();
        assert!(matches!(
            store.create_user(&user("admin", street.id, vec![])).await,
            Err(StoreError::Duplicate { field }) if field == "username"
        ));
        assert!(matches!(
            store.create_user(&user("ghost", 9_999_999, vec![])).await,
            Err(StoreError::InvalidReference { field }) if field == "unit_id"
        ));
        assert_eq!(
            store.find_user(admin.id).await.unwrap(),
            Some(admin.clone())
        );
        assert_eq!(
            store.find_user_by_username("street.handler").await.unwrap(),
            Some(handler.clone())
        );
        assert_eq!(store.find_user_by_username("nobody").await.unwrap(), None);
        assert_eq!(store.count_users().await.unwrap(), 2);
        assert_eq!(store.list_users().await.unwrap().len(), 2);
    }
}

#[tokio::test]
async fn users_are_updated_and_get_new_passwords() {
    for db in db::all_backends().await {
        let store: &dyn Store = db.store.as_ref();
        let org = seed_org(store).await;
        let handler = store
            .update_user(
                org.handler.id,
                &UserPatch {
                    display_name: Some("李四".to_owned()),
                    unit_id: None,
                    roles: Some(vec![Role::UnitHandler, Role::UnitLeader]),
                    active: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(handler.display_name, "李四");
        assert_eq!(handler.roles, vec![Role::UnitHandler, Role::UnitLeader]);
        assert_eq!(handler.unit_id, org.street.id);
        assert!(matches!(
            store
                .update_user(
                    handler.id,
                    &UserPatch {
                        unit_id: Some(9_999_999),
                        ..UserPatch::default()
                    }
                )
                .await,
            Err(StoreError::InvalidReference { field }) if field == "unit_id"
        ));
        assert!(matches!(
            store.update_user(9_999_999, &UserPatch::default()).await,
            Err(StoreError::NotFound)
        ));
        store
            .set_password(handler.id, "$argon2id$new")
            .await
            .unwrap();
        assert_eq!(
            store
                .find_user(handler.id)
                .await
                .unwrap()
                .unwrap()
                .password_hash,
            "$argon2id$new"
        );
        assert!(matches!(
            store.set_password(9_999_999, "x").await,
            Err(StoreError::NotFound)
        ));
    }
}

#[tokio::test]
async fn tokens_find_their_user_until_they_expire() {
    for db in db::all_backends().await {
        let store: &dyn Store = db.store.as_ref();
        let org = seed_org(store).await;
        let (admin, handler) = (org.admin, org.handler);
        let t0 = at("2026-11-28T08:00:00Z");
        store
            .create_token(&NewToken {
                token_hash: "hash-1".to_owned(),
                user_id: admin.id,
                created_at: t0,
                expires_at: t0 + Duration::hours(1),
            })
            .await
            .unwrap();
        store
            .create_token(&NewToken {
                token_hash: "hash-2".to_owned(),
                user_id: handler.id,
                created_at: t0,
                expires_at: t0 + Duration::hours(8),
            })
            .await
            .unwrap();
        assert_eq!(
            store
                .find_token_user("hash-1", t0 + Duration::minutes(59))
                .await
                .unwrap()
                .map(|u| u.id),
            Some(admin.id)
        );
        assert_eq!(
            store
                .find_token_user("hash-1", t0 + Duration::hours(1))
                .await
                .unwrap(),
            None
        );
        assert_eq!(store.find_token_user("nope", t0).await.unwrap(), None);
        assert_eq!(
            store
                .delete_expired_tokens(t0 + Duration::hours(2))
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            store
                .find_token_user("hash-2", t0)
                .await
                .unwrap()
                .map(|u| u.id),
            Some(handler.id)
        );
        store.delete_token("hash-2").await.unwrap();
        assert_eq!(store.find_token_user("hash-2", t0).await.unwrap(), None);
    }
}

#[tokio::test]
async fn login_failures_are_counted_per_username_and_address() {
    for db in db::all_backends().await {
        let store: &dyn Store = db.store.as_ref();
        let t0 = at("2026-11-28T08:00:00Z");
        for minutes in [0, 5, 10] {
            store
                .record_login_failure("alice", "10.0.0.1", t0 + Duration::minutes(minutes))
                .await
                .unwrap();
        }
        store
            .record_login_failure("alice", "10.0.0.9", t0 - Duration::hours(3))
            .await
            .unwrap();
        store
            .record_login_failure("bob", "10.0.0.1", t0)
            .await
            .unwrap();
        let since = t0 - Duration::minutes(15);
        assert_eq!(
            store
                .count_login_failures("alice", "10.0.0.1", since)
                .await
                .unwrap(),
            LoginFailureCounts {
                for_username: 3,
                for_address: 4
            }
        );
        store.clear_login_failures("alice").await.unwrap();
        assert_eq!(
            store
                .count_login_failures("alice", "10.0.0.1", since)
                .await
                .unwrap(),
            LoginFailureCounts {
                for_username: 0,
                for_address: 1
            }
        );
    }
}

#[tokio::test]
async fn categories_form_a_tree_of_levels() {
    for db in db::all_backends().await {
        let store: &dyn Store = db.store.as_ref();
        let Categories {
            city,
            lighting,
            lamps,
            water,
        } = create_categories(store).await;
        assert_eq!(
            (city.level, city.path.clone()),
            (1, format!("/{}/", city.id))
        );
        assert_eq!(lighting.level, 2);
        assert_eq!(lamps.level, 3);
        assert_eq!(
            lamps.path,
            format!("/{}/{}/{}/", city.id, lighting.id, lamps.id)
        );
        assert_eq!(lamps.chain(), vec![lamps.id, lighting.id, city.id]);
        assert!(matches!(
            store.create_category(&category("0301", None)).await,
            Err(StoreError::Duplicate { field }) if field == "code"
        ));
        assert!(matches!(
            store.create_category(&category("99", Some(9_999_999))).await,
            Err(StoreError::InvalidReference { field }) if field == "parent_id"
        ));
        let water = store
            .update_category(
                water.id,
                &CategoryPatch {
                    name: Some("供水".to_owned()),
                    active: Some(false),
                },
            )
            .await
            .unwrap();
        assert_eq!(water.name, "供水");
        assert!(!water.active);
        assert_eq!(
            store.find_category(lamps.id).await.unwrap(),
            Some(lamps.clone())
        );
        assert_eq!(
            store.list_categories().await.unwrap(),
            vec![city.clone(), lighting.clone(), lamps.clone(), water.clone()]
        );
        assert!(matches!(
            store
                .update_category(9_999_999, &CategoryPatch::default())
                .await,
            Err(StoreError::NotFound)
        ));
    }
}

#[tokio::test]
async fn policies_are_found_along_a_category_chain() {
    for db in db::all_backends().await {
        let store: &dyn Store = db.store.as_ref();
        let org = seed_org(store).await;
        let global = store
            .create_policy(&NewPolicyRule {
                category_id: None,
                order_type: None,
                urgency: None,
                step: LimitStep::Handle,
                limit: TimeLimit::working_days(15),
            })
            .await
            .unwrap();
        let on_city = store
            .create_policy(&NewPolicyRule {
                category_id: Some(org.city.id),
                order_type: Some(OrderType::Complaint),
                urgency: None,
                step: LimitStep::Handle,
                limit: TimeLimit::working_days(10),
            })
            .await
            .unwrap();
        let on_lamps = store
            .create_policy(&NewPolicyRule {
                category_id: Some(org.lamps.id),
                order_type: None,
                urgency: Some(Urgency::Emergency),
                step: LimitStep::Sign,
                limit: TimeLimit::natural_hours(2),
            })
            .await
            .unwrap();
        let water_rule = NewPolicyRule {
            category_id: Some(org.water.id),
            order_type: None,
            urgency: None,
            step: LimitStep::Visit,
            limit: TimeLimit::working_hours(8),
        };
        let on_water = store.create_policy(&water_rule).await.unwrap();
        assert!(matches!(
            store
                .create_policy(&NewPolicyRule {
                    category_id: Some(9_999_999),
                    ..water_rule
                })
                .await,
            Err(StoreError::InvalidReference { field }) if field == "category_id"
        ));
        assert_eq!(
            store
                .policies_for_categories(&org.lamps.chain())
                .await
                .unwrap(),
            vec![global.clone(), on_city.clone(), on_lamps.clone()]
        );
        assert_eq!(
            store.policies_for_categories(&[]).await.unwrap(),
            vec![global.clone()]
        );
        assert_eq!(store.list_policies().await.unwrap().len(), 4);
        store.delete_policy(on_water.id).await.unwrap();
        assert!(matches!(
            store.delete_policy(on_water.id).await,
            Err(StoreError::NotFound)
        ));
        assert_eq!(
            store.list_policies().await.unwrap(),
            vec![global, on_city, on_lamps]
        );
    }
}

#[tokio::test]
async fn calendar_days_are_upserted_and_deleted() {
    for db in db::all_backends().await {
        let store: &dyn Store = db.store.as_ref();
        let national_day = CalendarDay {
            date: day("2026-10-01"),
            kind: CalendarDayKind::Holiday,
            name: "国庆节".to_owned(),
        };
        let make_up = CalendarDay {
            date: day("2026-09-27"),
            kind: CalendarDayKind::Workday,
            name: "国庆节调休上班".to_owned(),
        };
        store
            .upsert_calendar_days(&[national_day.clone(), make_up.clone()])
            .await
            .unwrap();
        let renamed_day = CalendarDay {
            name: "国庆节、中秋节".to_owned(),
            ..national_day.clone()
        };
        let second = CalendarDay {
            date: day("2026-10-02"),
            kind: CalendarDayKind::Holiday,
            name: "国庆节".to_owned(),
        };
        store
            .upsert_calendar_days(&[renamed_day.clone(), second.clone()])
            .await
            .unwrap();
        assert_eq!(
            store.list_calendar_days().await.unwrap(),
            vec![make_up.clone(), renamed_day.clone(), second.clone()]
        );
        assert!(store.delete_calendar_day(second.date).await.unwrap());
        assert!(!store.delete_calendar_day(second.date).await.unwrap());
        assert_eq!(
            store.list_calendar_days().await.unwrap(),
            vec![make_up, renamed_day]
        );
    }
}

#[tokio::test]
async fn the_dispatch_catalogue_checks_its_references() {
    for db in db::all_backends().await {
        let store: &dyn Store = db.store.as_ref();
        let org = seed_org(store).await;
        let entry = store
            .create_catalogue_entry(&NewCatalogueEntry {
                category_id: org.lamps.id,
                district_id: Some(org.district.id),
                unit_id: org.street.id,
                note: Some("路灯归街道".to_owned()),
            })
            .await
            .unwrap();
        let water_to = |unit_id| NewCatalogueEntry {
            category_id: org.water.id,
            district_id: None,
            unit_id,
            note: None,
        };
        let fallback = store
            .create_catalogue_entry(&water_to(org.bureau.id))
            .await
            .unwrap();
        assert!(matches!(
            store.create_catalogue_entry(&water_to(9_999_999)).await,
            Err(StoreError::InvalidReference { field }) if field == "unit_id"
        ));
        assert!(matches!(
            store
                .create_catalogue_entry(&NewCatalogueEntry {
                    category_id: 9_999_999,
                    ..water_to(org.bureau.id)
                })
                .await,
            Err(StoreError::InvalidReference { field }) if field == "category_id"
        ));
        assert_eq!(
            store.list_catalogue().await.unwrap(),
            vec![entry.clone(), fallback.clone()]
        );
        store.delete_catalogue_entry(fallback.id).await.unwrap();
        assert!(matches!(
            store.delete_catalogue_entry(fallback.id).await,
            Err(StoreError::NotFound)
        ));
        assert_eq!(store.list_catalogue().await.unwrap(), vec![entry]);
    }
}

#[tokio::test]
async fn the_audit_log_lists_newest_first() {
    for db in db::all_backends().await {
        let store: &dyn Store = db.store.as_ref();
        let org = seed_org(store).await;
        let t0 = at("2026-11-28T08:00:00Z");
        let order_number = "20261128000001";
        store
            .write_audit(&NewAuditEntry {
                at: t0,
                user_id: Some(org.admin.id),
                action: "login".to_owned(),
                target: "admin".to_owned(),
                detail: None,
                address: Some("10.0.0.1".to_owned()),
            })
            .await
            .unwrap();
        store
            .write_audit(&NewAuditEntry {
                at: t0 + Duration::minutes(1),
                user_id: None,
                action: "view_personal_data".to_owned(),
                target: order_number.to_owned(),
                detail: Some("查看来电人电话".to_owned()),
                address: None,
            })
            .await
            .unwrap();
        let audit = store.list_audit(10).await.unwrap();
        assert_eq!(
            audit.iter().map(|a| a.action.as_str()).collect::<Vec<_>>(),
            vec!["view_personal_data", "login"]
        );
        assert_eq!(audit[0].target, order_number);
        assert_eq!(audit[0].detail.as_deref(), Some("查看来电人电话"));
        assert_eq!(audit[1].at, t0);
        assert_eq!(audit[1].user_id, Some(org.admin.id));
        assert_eq!(store.list_audit(1).await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn sqlite_backs_up_to_a_new_file_and_postgres_refuses() {
    for db in db::all_backends().await {
        let store: &dyn Store = db.store.as_ref();
        let org = seed_org(store).await;
        let orders = seed_orders(store, &org).await;
        let folder = tempfile::tempdir().unwrap();
        let target = folder.path().join("nested").join("backup.db");
        let target_text = target.to_str().unwrap().to_owned();
        match db.backend {
            Backend::Sqlite => {
                store.backup_to(&target_text).await.unwrap();
                assert!(target.exists());
                assert!(
                    store.backup_to(&target_text).await.is_err(),
                    "an existing file is never overwritten"
                );
                let copy = SqliteStore::connect(&format!("sqlite://{target_text}"))
                    .await
                    .unwrap();
                copy.migrate().await.unwrap();
                let copied = copy
                    .find_order_by_number(&orders.o1.number)
                    .await
                    .unwrap()
                    .unwrap();
                assert_eq!(copied, orders.agg);
                assert_eq!(
                    copy.list_orders(&OrderFilter::default(), &Scope::All, &page(10, 0))
                        .await
                        .unwrap()
                        .total,
                    4
                );
            }
            Backend::Postgres => {
                assert!(store.backup_to(&target_text).await.is_err());
                assert!(!target.exists());
            }
        }
    }
}

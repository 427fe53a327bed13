//! The knowledge base (知识库) in the store, on every backend: entries and every version round
//! trip, optimistic locking on the revision, the counters, Chinese full-text search of the live
//! content only (the hard words 停水, 井盖, 社保卡, 公积金提取; findable once approved and not
//! before; the old version found while a change is reviewed; gone once withdrawn), the filters,
//! temporary entries first, and rebuilding the index.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
use crate::support::db;

#[allow(dead_code)]
use crate::support::builders;

use chrono::{DateTime, Duration, Utc};
use minhu::storage::{
    KnowledgeFilter, KnowledgeScope, KnowledgeStateFilter, KnowledgeText, Store, StoreError,
};
use minhu_domain::knowledge::{
    self, KnowledgeAggregate, KnowledgeContext, KnowledgeInput, KnowledgeState,
    KnowledgeVisibility, check_knowledge_invariants,
};
use minhu_domain::{Actor, Role, UnitDirectory};
use minhu_text::{SearchQuery, segmenter};

use builders::{Org, at, page, seed_org};

/// The instant the tests act at.
fn now() -> DateTime<Utc> {
    at("2026-11-28T02:00:00Z")
}

fn editor(org: &Org) -> Actor {
    Actor {
        user_id: org.admin.id,
        username: org.admin.username.clone(),
        display_name: org.admin.display_name.clone(),
        roles: vec![Role::KnowledgeEditor],
        unit: org.centre.clone(),
    }
}

fn units(org: &Org) -> UnitDirectory {
    UnitDirectory::new([org.centre.clone(), org.bureau.clone(), org.street.clone()])
}

fn input(org: &Org, title: &str, body: &str, keywords: &[&str]) -> KnowledgeInput {
    KnowledgeInput {
        category_id: org.lamps.id,
        title: title.to_owned(),
        body: body.to_owned(),
        keywords: keywords.iter().map(|k| (*k).to_owned()).collect(),
        source_unit_id: org.bureau.id,
        visibility: KnowledgeVisibility::Public,
        temporary: false,
        effective_from: Some(at("2026-11-01T00:00:00Z")),
        expires_at: None,
    }
}

/// Creates an entry as the editor; returns it as stored.
async fn create(store: &dyn Store, org: &Org, input: &KnowledgeInput) -> KnowledgeAggregate {
    let actor = editor(org);
    let units = units(org);
    let ctx = KnowledgeContext {
        now: now(),
        actor: &actor,
        units: &units,
    };
    let t = knowledge::create(&ctx, input).unwrap();
    store.create_knowledge(&t).await.unwrap()
}

/// Submits and approves the latest version as the editor.
async fn publish(store: &dyn Store, org: &Org, agg: KnowledgeAggregate) -> KnowledgeAggregate {
    let actor = editor(org);
    let units = units(org);
    let ctx = KnowledgeContext {
        now: now(),
        actor: &actor,
        units: &units,
    };
    let t = knowledge::submit(&ctx, &agg).unwrap();
    let agg = store.save_knowledge(agg.entry.revision, &t).await.unwrap();
    let t = knowledge::approve(&ctx, &agg, Some("同意")).unwrap();
    store.save_knowledge(agg.entry.revision, &t).await.unwrap()
}

fn text(query: &str, any: bool) -> KnowledgeText {
    KnowledgeText {
        query: SearchQuery::parse(segmenter(), query).expect("a searchable query"),
        any,
    }
}

/// The titles a search for `query` finds among the live entries.
async fn found(store: &dyn Store, query: &str) -> Vec<String> {
    let mut filter = KnowledgeFilter::live(now());
    filter.text = Some(text(query, false));
    titles(store, &filter).await
}

async fn titles(store: &dyn Store, filter: &KnowledgeFilter) -> Vec<String> {
    let result = store.list_knowledge(filter, &page(50, 0)).await.unwrap();
    assert_eq!(result.total as usize, result.items.len());
    result
        .items
        .into_iter()
        .map(|i| i.entry.content.title)
        .collect()
}

const TEXTS: &[(&str, &str, &[&str])] = &[
    (
        "突发停水的查询渠道",
        "市民反映家中突然没水时，先查临时知识库，再确认范围；大面积没水的登记工单派水务集团。",
        &["没水", "抢修"],
    ),
    (
        "道路井盖缺失的处置",
        "发现井盖缺失、破损或移位，先提醒市民远离，再按权属派单：雨水污水井盖派排水公司。",
        &["窨井", "下水道"],
    ),
    (
        "社保卡挂失和补办",
        "社保卡丢失可拨打服务热线或到银行网点临时挂失，补办需携带身份证，七个工作日内领卡。",
        &["社会保障卡", "补卡"],
    ),
    (
        "租房提取住房资金的条件",
        "职工连续足额缴存满三个月、本人及配偶在本市无自有住房且租房居住的，可办理公积金提取。",
        &["公积金提取", "租房"],
    ),
    (
        "路灯不亮的报修",
        "路灯不亮或白天常亮，登记路灯编号和位置，派城市照明管理所，一般三个工作日内修复。",
        &["路灯", "照明"],
    ),
];

#[tokio::test]
async fn entries_and_every_version_round_trip_with_optimistic_locking() {
    for db in db::all_backends().await {
        let store: &dyn Store = db.store.as_ref();
        let backend = db.backend.name();
        let org = seed_org(store).await;
        let (title, body, keywords) = TEXTS[0];
        let created = create(store, &org, &input(&org, title, body, keywords)).await;
        assert!(created.entry.id > 0, "{backend}");
        assert_eq!(created.entry.revision, 1, "{backend}");
        assert_eq!(created.entry.state, KnowledgeState::Draft);
        assert_eq!(created.versions.len(), 1);
        assert_eq!(created.versions[0].entry_id, created.entry.id);
        assert_eq!(created.entry.content.keywords, vec!["没水", "抢修"]);
        let read = store.find_knowledge(created.entry.id).await.unwrap();
        assert_eq!(read.as_ref(), Some(&created), "{backend}");
        check_knowledge_invariants(&created).unwrap();

        let published = publish(store, &org, created.clone()).await;
        assert_eq!(published.entry.revision, 3, "{backend}");
        assert_eq!(published.entry.state, KnowledgeState::Published);
        assert_eq!(published.entry.published_version, Some(1));
        assert_eq!(published.versions[0].review_note.as_deref(), Some("同意"));
        check_knowledge_invariants(&published).unwrap();

        // A change made against an older revision is refused and changes nothing.
        let actor = editor(&org);
        let units = units(&org);
        let ctx = KnowledgeContext {
            now: now(),
            actor: &actor,
            units: &units,
        };
        let mut changed = input(&org, "突发停水的查询渠道（修订）", body, keywords);
        changed.visibility = KnowledgeVisibility::Internal;
        let t = knowledge::edit(&ctx, &published, &changed).unwrap();
        assert!(matches!(
            store.save_knowledge(1, &t).await,
            Err(StoreError::Conflict)
        ));
        let mut missing = t.clone();
        missing.entry.id = 9_999;
        assert!(matches!(
            store.save_knowledge(3, &missing).await,
            Err(StoreError::NotFound)
        ));
        let edited = store.save_knowledge(3, &t).await.unwrap();
        assert_eq!(edited.entry.revision, 4);
        assert_eq!(edited.versions.len(), 2, "{backend}: every version kept");
        assert_eq!(edited.versions[1].state, KnowledgeState::Draft);
        assert_eq!(
            edited.versions[1].content.visibility,
            KnowledgeVisibility::Internal
        );
        assert_eq!(
            edited.entry.content.title, title,
            "the published one is live"
        );
        check_knowledge_invariants(&edited).unwrap();

        // The counters add in place and leave the revision alone.
        let used = knowledge::record_use(&ctx, &edited, 77).unwrap();
        let entry = store.add_knowledge_counts(&used.event, 1, 0).await.unwrap();
        assert_eq!((entry.used_count, entry.revision), (1, 4), "{backend}");
        let helpful = knowledge::mark_helpful(&ctx, &edited).unwrap();
        let entry = store
            .add_knowledge_counts(&helpful.event, 0, 1)
            .await
            .unwrap();
        assert_eq!((entry.used_count, entry.helpful_count), (1, 1));

        let history = store.knowledge_history(created.entry.id).await.unwrap();
        let actions: Vec<&str> = history.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(
            actions,
            vec![
                "create",
                "submit",
                "approve",
                "edit",
                "record_use",
                "mark_helpful"
            ],
            "{backend}"
        );
        assert!(history.iter().all(|e| e.entry_id == created.entry.id));
        assert_eq!(history[4].details["order_id"], 77);
        assert_eq!(history[0].from_state, None);

        // Withdrawn entries count no more.
        let current = store
            .find_knowledge(created.entry.id)
            .await
            .unwrap()
            .unwrap();
        let t = knowledge::withdraw(&ctx, &current, "政策废止").unwrap();
        let withdrawn = store
            .save_knowledge(current.entry.revision, &t)
            .await
            .unwrap();
        check_knowledge_invariants(&withdrawn).unwrap();
        assert!(matches!(
            store.add_knowledge_counts(&used.event, 1, 0).await,
            Err(StoreError::Conflict)
        ));
        let mut nowhere = used.event.clone();
        nowhere.entry_id = 9_999;
        assert!(matches!(
            store.add_knowledge_counts(&nowhere, 1, 0).await,
            Err(StoreError::NotFound)
        ));
        assert_eq!(store.find_knowledge(9_999).await.unwrap(), None);
    }
}

#[tokio::test]
async fn hard_words_are_found_once_published_and_not_before() {
    for db in db::all_backends().await {
        let store: &dyn Store = db.store.as_ref();
        let backend = db.backend.name();
        let org = seed_org(store).await;
        let mut drafts = Vec::new();
        for (title, body, keywords) in TEXTS {
            drafts.push(create(store, &org, &input(&org, title, body, keywords)).await);
        }
        for word in ["停水", "井盖", "社保卡", "公积金提取", "路灯"] {
            assert!(
                found(store, word).await.is_empty(),
                "{backend}: a draft is not found by {word}"
            );
        }
        let mut published = Vec::new();
        for draft in drafts {
            published.push(publish(store, &org, draft).await);
        }
        assert_eq!(
            found(store, "停水").await,
            vec!["突发停水的查询渠道"],
            "{backend}"
        );
        assert_eq!(found(store, "井盖").await, vec!["道路井盖缺失的处置"]);
        assert_eq!(found(store, "社保卡").await, vec!["社保卡挂失和补办"]);
        // In the keywords and the body only, not the title.
        assert_eq!(
            found(store, "公积金提取").await,
            vec!["租房提取住房资金的条件"],
            "{backend}"
        );
        assert_eq!(found(store, "下水道").await, vec!["道路井盖缺失的处置"]);
        // Every word must occur; with `any`, one is enough.
        assert!(found(store, "井盖 社保卡").await.is_empty());
        let mut filter = KnowledgeFilter::live(now());
        filter.text = Some(text("井盖 社保卡", true));
        let mut either = titles(store, &filter).await;
        either.sort();
        assert_eq!(either, vec!["社保卡挂失和补办", "道路井盖缺失的处置"]);
        // A title hit ranks before a body hit.
        let (title, body, keywords) = TEXTS[4];
        let mut other = input(&org, "夜间照明设施的管理", body, keywords);
        other.body = format!("{body}另有路灯节能改造安排。");
        let _ = title;
        publish(store, &org, create(store, &org, &other).await).await;
        let lamps = found(store, "路灯").await;
        assert_eq!(lamps.len(), 2, "{backend}");
        assert_eq!(lamps[0], "路灯不亮的报修", "{backend}");

        // A change under review: the published version is still what is found.
        let actor = editor(&org);
        let units = units(&org);
        let ctx = KnowledgeContext {
            now: now(),
            actor: &actor,
            units: &units,
        };
        let social = published[2].clone();
        let (_, body, keywords) = TEXTS[2];
        let changed = input(&org, "医保卡挂失和补办", body, keywords);
        let t = knowledge::edit(&ctx, &social, &changed).unwrap();
        let social = store
            .save_knowledge(social.entry.revision, &t)
            .await
            .unwrap();
        let t = knowledge::submit(&ctx, &social).unwrap();
        let social = store
            .save_knowledge(social.entry.revision, &t)
            .await
            .unwrap();
        assert_eq!(found(store, "社保卡").await, vec!["社保卡挂失和补办"]);
        assert!(found(store, "医保卡").await.is_empty(), "{backend}");
        let t = knowledge::approve(&ctx, &social, None).unwrap();
        let social = store
            .save_knowledge(social.entry.revision, &t)
            .await
            .unwrap();
        assert_eq!(
            found(store, "医保卡").await,
            vec!["医保卡挂失和补办"],
            "{backend}: the approved version is found at once"
        );
        assert_eq!(
            found(store, "社保卡").await,
            vec!["医保卡挂失和补办"],
            "{backend}: the old title is no longer found, the body still says 社保卡"
        );
        check_knowledge_invariants(&social).unwrap();

        // Withdrawn: gone from search.
        let t = knowledge::withdraw(&ctx, &published[1], "已过时").unwrap();
        store
            .save_knowledge(published[1].entry.revision, &t)
            .await
            .unwrap();
        assert!(found(store, "井盖").await.is_empty(), "{backend}");

        // Rebuilding the index finds the same.
        assert_eq!(store.reindex_knowledge().await.unwrap(), 5, "{backend}");
        assert_eq!(found(store, "停水").await, vec!["突发停水的查询渠道"]);
        assert!(found(store, "井盖").await.is_empty());
        assert_eq!(found(store, "医保卡").await, vec!["医保卡挂失和补办"]);
    }
}

#[tokio::test]
async fn filters_scope_and_temporary_entries_first() {
    for db in db::all_backends().await {
        let store: &dyn Store = db.store.as_ref();
        let backend = db.backend.name();
        let org = seed_org(store).await;
        // A live entry in lamps, an internal one in lighting, a temporary one (live), one
        // expired and one not yet in effect, a draft of the street's and one in review.
        let mut lamp = input(
            &org,
            "路灯报修",
            "路灯不亮请登记编号，派照明管理所。",
            &["路灯"],
        );
        publish(store, &org, create(store, &org, &lamp).await).await;
        lamp.title = "照明口径（内部）".to_owned();
        lamp.category_id = org.lighting.id;
        lamp.visibility = KnowledgeVisibility::Internal;
        publish(store, &org, create(store, &org, &lamp).await).await;
        let mut temp = input(
            &org,
            "青石街道临时停电",
            "青石街道今日检修停电，路灯同时熄灭。",
            &["停电"],
        );
        temp.temporary = true;
        temp.effective_from = Some(now() - Duration::hours(2));
        temp.expires_at = Some(now() + Duration::days(1));
        publish(store, &org, create(store, &org, &temp).await).await;
        let mut old = temp.clone();
        old.title = "上周停电（已过期）".to_owned();
        old.effective_from = Some(now() - Duration::days(8));
        old.expires_at = Some(now() - Duration::days(1));
        let actor = editor(&org);
        let units = units(&org);
        // Approved while it was still in effect.
        let ctx = KnowledgeContext {
            now: now() - Duration::days(2),
            actor: &actor,
            units: &units,
        };
        let t = knowledge::create(&ctx, &old).unwrap();
        let agg = store.create_knowledge(&t).await.unwrap();
        let t = knowledge::submit(&ctx, &agg).unwrap();
        let agg = store.save_knowledge(1, &t).await.unwrap();
        let t = knowledge::approve(&ctx, &agg, None).unwrap();
        store.save_knowledge(2, &t).await.unwrap();
        let mut later = input(&org, "明年新规", "明年起路灯由区里管理。", &["路灯"]);
        later.effective_from = Some(now() + Duration::days(30));
        publish(store, &org, create(store, &org, &later).await).await;
        let mut street = input(
            &org,
            "街道自管路灯",
            "街道自管路灯由街道城管科负责。",
            &["路灯"],
        );
        street.source_unit_id = org.street.id;
        create(store, &org, &street).await;
        let review = create(
            store,
            &org,
            &input(&org, "待审的路灯口径", "审核中的内容。", &["路灯"]),
        )
        .await;
        let ctx = KnowledgeContext {
            now: now(),
            actor: &actor,
            units: &units,
        };
        let t = knowledge::submit(&ctx, &review).unwrap();
        store.save_knowledge(1, &t).await.unwrap();

        let live = KnowledgeFilter::live(now());
        assert_eq!(
            titles(store, &live).await[0],
            "青石街道临时停电",
            "{backend}: the live temporary entry first"
        );
        let mut sorted = titles(store, &live).await;
        sorted.sort();
        assert_eq!(
            sorted,
            vec!["照明口径（内部）", "路灯报修", "青石街道临时停电"],
            "{backend}"
        );
        // With a text too, the temporary entry leads.
        let mut filter = live.clone();
        filter.text = Some(text("路灯", false));
        assert_eq!(
            titles(store, &filter).await,
            vec!["青石街道临时停电", "路灯报修", "照明口径（内部）"],
            "{backend}"
        );
        // Category: lighting and below, or only lamps.
        let mut filter = live.clone();
        filter.category_path = Some(org.lamps.path.clone());
        let mut in_lamps = titles(store, &filter).await;
        in_lamps.sort();
        assert_eq!(in_lamps, vec!["路灯报修", "青石街道临时停电"]);
        filter.category_path = Some(org.city.path.clone());
        assert_eq!(titles(store, &filter).await.len(), 3);
        filter.category_path = None;
        filter.category_ids = vec![org.lighting.id];
        assert_eq!(titles(store, &filter).await, vec!["照明口径（内部）"]);
        // Visibility.
        let mut filter = live.clone();
        filter.visibility = Some(KnowledgeVisibility::Public);
        assert_eq!(titles(store, &filter).await.len(), 2);
        // The derived and stored states.
        let state = |state: KnowledgeStateFilter| {
            let mut f = live.clone();
            f.state = state;
            f.scope = KnowledgeScope::All;
            f
        };
        assert_eq!(
            titles(store, &state(KnowledgeStateFilter::Expired)).await,
            vec!["上周停电（已过期）"],
            "{backend}"
        );
        assert_eq!(
            titles(store, &state(KnowledgeStateFilter::Scheduled)).await,
            vec!["明年新规"]
        );
        assert_eq!(
            titles(store, &state(KnowledgeStateFilter::InReview)).await,
            vec!["待审的路灯口径"]
        );
        let mut drafts = titles(store, &state(KnowledgeStateFilter::Draft)).await;
        drafts.sort();
        assert_eq!(drafts, vec!["街道自管路灯"]);
        assert_eq!(
            titles(store, &state(KnowledgeStateFilter::Any)).await.len(),
            7
        );
        // A handling unit lists the live entries and its own in every state.
        let mut unit = state(KnowledgeStateFilter::Any);
        unit.scope = KnowledgeScope::LiveOrUnit {
            unit_id: org.street.id,
        };
        assert_eq!(titles(store, &unit).await.len(), 4, "{backend}");
        unit.state = KnowledgeStateFilter::Draft;
        assert_eq!(titles(store, &unit).await, vec!["街道自管路灯"]);
        let mut unit = live.clone();
        unit.source_unit_id = Some(org.street.id);
        assert!(titles(store, &unit).await.is_empty());
        // Paging and counting.
        let result = store.list_knowledge(&live, &page(2, 0)).await.unwrap();
        assert_eq!((result.items.len(), result.total), (2, 3));
        let result = store.list_knowledge(&live, &page(0, 0)).await.unwrap();
        assert_eq!((result.items.len(), result.total), (0, 3));
        let result = store.list_knowledge(&live, &page(2, 2)).await.unwrap();
        assert_eq!((result.items.len(), result.total), (1, 3));
        assert_eq!(result.items[0].latest_state, KnowledgeState::Published);
        // Past the end: no row carries the total, which is still counted.
        let result = store.list_knowledge(&live, &page(2, 10)).await.unwrap();
        assert_eq!((result.items.len(), result.total), (0, 3), "{backend}");
        // The pages together are the whole list, in the same order, each once.
        let whole = store.list_knowledge(&live, &page(10, 0)).await.unwrap();
        let mut paged = Vec::new();
        for offset in [0, 2] {
            let part = store.list_knowledge(&live, &page(2, offset)).await.unwrap();
            paged.extend(part.items.into_iter().map(|item| item.entry.id));
        }
        let whole: Vec<i64> = whole.items.iter().map(|item| item.entry.id).collect();
        assert_eq!(paged, whole, "{backend}");
    }
}

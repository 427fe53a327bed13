//! The work queues in a real headless Chromium: a dispatcher dispatches from /dispatch by
//! keyboard (the row's unit pickers load the unit list on focus, the catalogue's suggestion
//! stays selected, a co unit is picked by typing), and a district sub-centre re-dispatches and
//! reviews from its inbox rows, each swapped in place by htmx.
//!
//! What the tests rely on: `/dispatch` rows `#dispatch-<number>` whose form has the pickers
//! `#lead-<number>` (`name=lead_unit_id`) and `#co-<number>` (`name=co_unit_ids`) after the
//! title link, then the submit button; `/inbox` rows `#inbox-<number>` with a `form.row-form`
//! (`to_unit_id`, `note`; `pass`, `note`) and the outcome in `.row-notice`.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests fail by panicking

use crate::browser;
use crate::support;

use browser::Browser;
use fantoccini::key::Key;
use minhu::storage::NewCatalogueEntry;
use serde_json::{Value, json};
use support::app::{PASSWORD, TestApp, start};
use support::db::all_backends;

async fn register(t: &TestApp) -> String {
    let agent = t.login("agent1").await;
    let order = t.register(&agent, t.fixture.new_order()).await;
    order["number"].as_str().unwrap().to_owned()
}

/// How many options the `<select>` with `id` has, and the values selected.
async fn options(b: &Browser, id: &str) -> (usize, Vec<String>) {
    let value = b
        .js(&format!(
            "const s = document.getElementById('{id}'); \
             return [s.options.length, Array.from(s.selectedOptions).map(o => o.value)];"
        ))
        .await;
    let count = value[0].as_u64().unwrap();
    let selected = value[1]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    (usize::try_from(count).unwrap(), selected)
}

async fn wait_for_units(b: &Browser, id: &str) {
    b.wait_until("the unit list", || async {
        Ok(options(b, id).await.0 >= 5)
    })
    .await;
}

#[tokio::test]
async fn a_dispatcher_dispatches_from_the_queue_by_keyboard() {
    for db in all_backends().await {
        let t = start(db).await;
        let f = &t.fixture;
        let number = register(&t).await;
        let b = Browser::open(&t, "queue-dispatch").await;
        b.sign_in("dispatcher1", PASSWORD).await;
        b.goto("/dispatch").await;
        let lead = format!("lead-{number}");
        let co = format!("co-{number}");
        b.wait(&format!("#{lead}")).await;
        // The page carries only the suggestion; the list comes when the picker is reached.
        assert_eq!(options(&b, &lead).await, (1, vec![f.water.id.to_string()]));

        // From the title link, Tab reaches the lead picker: the units load, the suggestion
        // stays selected.
        b.js(&format!(
            "document.querySelector('#dispatch-{number} td.title-cell a').focus();"
        ))
        .await;
        b.keys(&Key::Tab.to_string()).await;
        assert_eq!(b.focused().await, lead);
        wait_for_units(&b, &lead).await;
        assert_eq!(options(&b, &lead).await.1, vec![f.water.id.to_string()]);
        b.shot("01-lead-loaded").await;

        // Tab to the co picker, type the gas company's name.
        b.keys(&Key::Tab.to_string()).await;
        assert_eq!(b.focused().await, co);
        wait_for_units(&b, &co).await;
        b.keys("市燃").await;
        b.wait_until("the co unit chosen", || async {
            Ok(options(&b, &co).await.1 == vec![f.gas.id.to_string()])
        })
        .await;
        assert_eq!(options(&b, &lead).await.1, vec![f.water.id.to_string()]);
        b.shot("02-co-chosen").await;

        // Tab to 确认派单, Enter: dispatched to both.
        b.keys(&Key::Tab.to_string()).await;
        b.keys_and_load(&Key::Enter.to_string()).await;
        b.wait_path(&format!("/orders/{number}")).await;
        b.wait_text("#order-panel", "待签收").await;
        b.shot("03-dispatched").await;
        let dispatcher = t.login("dispatcher1").await;
        let order = t.order(&dispatcher, &number).await;
        let mut held: Vec<(i64, String)> = order["assignments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["unit_id"].as_i64().unwrap(),
                    a["role"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        held.sort();
        let mut expected = vec![(f.water.id, "lead".to_owned()), (f.gas.id, "co".to_owned())];
        expected.sort();
        assert_eq!(held, expected, "{order}");
        b.close().await;
    }
}

fn version(order: &Value) -> i64 {
    order["version"].as_i64().unwrap()
}

#[tokio::test]
async fn a_sub_centre_works_its_inbox_rows_in_place() {
    for db in all_backends().await {
        let t = start(db).await;
        let f = &t.fixture;
        t.app
            .store
            .create_catalogue_entry(&NewCatalogueEntry {
                category_id: f.cat_water_cut.id,
                district_id: Some(f.district.id),
                unit_id: f.street.id,
                note: None,
            })
            .await
            .unwrap();
        let number = register(&t).await;
        let dispatcher = t.login("dispatcher1").await;
        let district = t.login("district1").await;
        let street = t.login("street1").await;
        t.act_ok(
            &dispatcher,
            &number,
            "dispatch",
            json!({"lead_unit_id": f.district.id}),
        )
        .await;
        t.act_ok(&district, &number, "sign", json!({})).await;

        let b = Browser::open(&t, "queue-inbox").await;
        b.sign_in("district1", PASSWORD).await;
        b.goto("/inbox?tab=redispatch").await;
        let row = format!("#inbox-{number}");
        b.wait(&format!("{row} form.row-form")).await;
        b.shot("01-redispatch-row").await;
        b.fill(&format!("{row} [name=note]"), "请街道核实").await;
        b.click_and_replace(&format!("{row} button[type=submit]"), &row)
            .await;
        b.wait_text(
            &format!("{row} .row-notice"),
            &format!("已转派至{}", f.street.name),
        )
        .await;
        assert_eq!(b.path().await, "/inbox?tab=redispatch", "no reload");
        b.shot("02-redispatched").await;

        t.act_ok(&street, &number, "sign", json!({})).await;
        t.act_ok(&street, &number, "reply", json!({"text": "已协调抢修。"}))
            .await;
        b.goto("/inbox?tab=review").await;
        b.wait_text(&row, "已协调抢修").await;
        let form = format!("{row} form.row-form");
        b.choose(&form, "pass", "false").await;
        // Sending back without a reason: refused in the row, the verdict kept.
        b.click_and_replace(&format!("{form} button[type=submit]"), &row)
            .await;
        b.wait_text(&format!("{row} .row-error"), "退回意见").await;
        b.shot("03-refused").await;
        b.fill(&format!("{form} [name=note]"), "未说明原因").await;
        b.choose(&form, "pass", "false").await;
        b.click_and_replace(&format!("{form} button[type=submit]"), &row)
            .await;
        b.wait_text(&format!("{row} .row-notice"), "已退回").await;
        b.shot("04-sent-back").await;
        let order = t.order(&district, &number).await;
        assert!(version(&order) > 0);
        let street_state = order["assignments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["unit_id"] == f.street.id)
            .map(|a| a["state"].clone());
        assert_eq!(street_state, Some(json!("in_progress")), "{order}");
        b.close().await;
    }
}

//! Repeat detection (重复件) measured on a labelled set the test builds: pairs of requests that are
//! the same matter (the same incident at the same place, told in other words, with typos) and
//! pairs that are not (another matter at the same place; the same kind of matter at another place
//! of the same street). Prints precision and recall at the configured threshold and fails below
//! a floor, so a change that makes detection worse is caught.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use minhu::config::Config;
use minhu::service::search::{RepeatProbe, evidence};
use minhu::storage::OrderListItem;
use minhu_domain::repeats;
use minhu_text::{TextProfile, segmenter};

#[allow(dead_code)]
use crate::support::builders;

/// A matter: its category (leaf id, parent id) and ways a caller tells it; `{place}` is the
/// landmark of the community where it happens.
struct Matter {
    category: (i64, i64),
    tellings: &'static [(&'static str, &'static str)],
}

const MATTERS: &[Matter] = &[
    Matter {
        category: (11, 1),
        tellings: &[
            (
                "{place}路灯不亮",
                "{place}门口的路灯晚上不亮，已经好几天了，走路很黑。",
            ),
            (
                "路灯坏了",
                "我们{place}那边的路灯坏了，一到晚上漆黑一片，老人出门不方便。",
            ),
            (
                "反映{place}路灯故障",
                "{place}附近几盏路灯一直不亮，麻烦派人修一下路灯。",
            ),
        ],
    },
    Matter {
        category: (12, 1),
        tellings: &[
            (
                "{place}井盖丢失",
                "{place}东侧人行道上的井盖丢了，留下一个大洞，很危险。",
            ),
            (
                "井盖缺失有安全隐患",
                "{place}旁边有个下水井没有井盖，晚上容易掉下去。",
            ),
            (
                "窨井盖不见了",
                "{place}路口窨井盖不见了，有人差点踩空，请尽快补上井盖。",
            ),
        ],
    },
    Matter {
        category: (21, 2),
        tellings: &[
            (
                "{place}停水",
                "{place}从昨天早上开始停水，没有接到任何停水通知。",
            ),
            (
                "家里没水了",
                "{place}一直没有自来水，停水一整天了，做饭洗漱都成问题。",
            ),
            (
                "{place}突然断水",
                "{place}突然断水，问了物业也说不清楚什么时候来水。",
            ),
        ],
    },
    Matter {
        category: (22, 2),
        tellings: &[
            (
                "{place}燃气味重",
                "{place}楼道里燃气味很重，怀疑哪里漏气了，很担心。",
            ),
            (
                "闻到煤气味",
                "{place}单元门口一直有煤气味，燃气可能泄漏，请燃气公司来查。",
            ),
            (
                "疑似燃气泄漏",
                "{place}楼下燃气味道刺鼻，怕出事，希望马上派人检查燃气管道。",
            ),
        ],
    },
    Matter {
        category: (31, 3),
        tellings: &[
            (
                "{place}夜间施工噪音",
                "{place}旁边工地晚上十一点以后还在施工，噪音太大没法睡觉。",
            ),
            (
                "工地半夜施工扰民",
                "{place}附近工地半夜还在打桩，施工噪音扰民严重。",
            ),
            (
                "施工噪声影响休息",
                "{place}边上的工地天天夜间施工，噪声吵得孩子睡不着。",
            ),
        ],
    },
    Matter {
        category: (32, 3),
        tellings: &[
            (
                "{place}烧烤油烟扰民",
                "{place}楼下烧烤店油烟直排，家里窗户都不敢开。",
            ),
            (
                "饭店油烟太大",
                "{place}底商饭店的油烟熏到楼上住户，油烟扰民。",
            ),
            (
                "烧烤店油烟污染",
                "{place}一楼烧烤店每天晚上油烟很大，气味呛人。",
            ),
        ],
    },
    Matter {
        category: (41, 4),
        tellings: &[
            (
                "{place}电梯故障",
                "{place}3号楼电梯又坏了，停运三天，老人上下楼很困难。",
            ),
            ("电梯经常坏", "{place}的电梯总是出故障，物业一直不修电梯。"),
            (
                "电梯停运无人修",
                "{place}电梯停运好几天了，物业说在等配件。",
            ),
        ],
    },
    Matter {
        category: (42, 4),
        tellings: &[
            (
                "{place}暖气不热",
                "{place}家里暖气不热，室温只有十几度，孩子冻感冒了。",
            ),
            ("供暖温度低", "{place}今年供暖温度太低，暖气片摸着是凉的。"),
            (
                "暖气片不热",
                "{place}住户反映暖气一直不热，找供热公司没人管。",
            ),
        ],
    },
];

/// Landmarks of the communities of one street (the test street), and their ids.
const PLACES: &[(&str, i64)] = &[("幸福里小区", 101), ("锦绣花园", 102), ("青石苑", 103)];
const STREET: i64 = 10;

/// A few typos a caller's words pick up when an agent types fast.
fn with_typo(text: &str, k: usize) -> String {
    match k % 3 {
        0 => text.to_owned(),
        1 => text.replacen('，', "", 1),
        _ => text.replacen("很", "狠", 1),
    }
}

struct Request {
    matter: usize,
    place: usize,
    title: String,
    content: String,
}

fn requests() -> Vec<Request> {
    let mut out = Vec::new();
    for (m, matter) in MATTERS.iter().enumerate() {
        for (p, (landmark, _)) in PLACES.iter().enumerate() {
            for (t, (title, content)) in matter.tellings.iter().enumerate() {
                out.push(Request {
                    matter: m,
                    place: p,
                    title: title.replace("{place}", landmark),
                    content: with_typo(&content.replace("{place}", landmark), t + p),
                });
            }
        }
    }
    out
}

fn as_candidate(r: &Request) -> OrderListItem {
    let mut order = builders::new_order(
        MATTERS[r.matter].category.0,
        1,
        builders::at("2026-11-28T02:00:00Z"),
        "13900000000",
    );
    order.title = r.title.clone();
    order.content = r.content.clone();
    order.category_id = MATTERS[r.matter].category.0;
    order.location.street_id = Some(STREET);
    order.location.community_id = Some(PLACES[r.place].1);
    order.citizen.phone = format!("1390000{:04}", r.matter * 10 + r.place);
    OrderListItem {
        order,
        lead_unit_id: None,
        repeat_count: 0,
    }
}

fn probe(r: &Request) -> RepeatProbe {
    RepeatProbe {
        title: r.title.clone(),
        content: r.content.clone(),
        category_id: Some(MATTERS[r.matter].category.0),
        district_id: None,
        street_id: Some(STREET),
        community_id: Some(PLACES[r.place].1),
        // Another caller: repeats come from neighbours as often as from the same person.
        phone: Some("13700000000".to_owned()),
        exclude_order_id: None,
    }
}

#[test]
fn detection_precision_and_recall_on_a_labelled_set() {
    let threshold = Config::default().repeat_threshold;
    let s = segmenter();
    let requests = requests();
    let (mut tp, mut fp, mut fn_, mut tn) = (0u32, 0u32, 0u32, 0u32);
    let mut hard_negatives = (0u32, 0u32);
    for (i, a) in requests.iter().enumerate() {
        for b in requests.iter().skip(i + 1) {
            let same_matter = a.matter == b.matter && a.place == b.place;
            let pa = TextProfile::of(s, &format!("{} {}", a.title, a.content));
            let pb = TextProfile::of(s, &format!("{} {}", b.title, b.content));
            let found = evidence(
                &probe(a),
                &pa,
                Some(MATTERS[a.matter].category.1),
                &as_candidate(b),
                &pb,
                Some(MATTERS[b.matter].category.1),
            );
            let flagged = repeats::score(&found).score >= threshold;
            match (same_matter, flagged) {
                (true, true) => tp += 1,
                (true, false) => fn_ += 1,
                (false, true) => fp += 1,
                (false, false) => tn += 1,
            }
            if a.matter == b.matter && a.place != b.place {
                hard_negatives.0 += 1;
                if flagged {
                    hard_negatives.1 += 1;
                }
            }
        }
    }
    let precision = f64::from(tp) / f64::from(tp + fp).max(1.0);
    let recall = f64::from(tp) / f64::from(tp + fn_).max(1.0);
    println!(
        "repeat detection at threshold {threshold}: precision {precision:.3}, recall {recall:.3} \
         (tp {tp}, fp {fp}, fn {fn_}, tn {tn}; same matter at another place flagged: {} of {})",
        hard_negatives.1, hard_negatives.0
    );
    assert!(tp + fn_ >= 50 && fp + tn >= 500, "the set is big enough");
    assert!(precision >= 0.85, "precision {precision:.3}");
    assert!(recall >= 0.85, "recall {recall:.3}");
}

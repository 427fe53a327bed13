//! Segmentation of the words a 12345 search must find, and the promise search rests on: the
//! terms of a query for a word are among the index terms of any text that holds the word.

use minhu_text::{SearchQuery, TextProfile, segmenter};
use proptest::prelude::*;

/// The hard words: two-character matters that a character-by-character or careless cut loses.
const HARD_WORDS: &[&str] = &[
    "路灯",
    "井盖",
    "噪音",
    "停水",
    "停电",
    "燃气",
    "暖气",
    "漏水",
    "扰民",
    "物业",
    "拖欠工资",
    "占道经营",
    "渣土车",
    "违章建筑",
    "公积金",
    "医保",
    "社保",
    "油烟",
];

/// Ordinary requests in which the hard words sit.
const CONTEXTS: &[(&str, &str)] = &[
    ("幸福里小区", "已经三天了"),
    ("楼下", "严重影响休息"),
    ("我家附近的", "问题反映多次没人管"),
    ("锦绣路口", "很危险，请尽快处理"),
    ("3号楼2单元", "一直没有解决"),
    ("", ""),
];

fn query_terms_in_index(word: &str, before: &str, after: &str) -> Result<(), String> {
    let s = segmenter();
    let text = format!("{before}{word}{after}");
    let index = s.index_terms(&text);
    let query = SearchQuery::parse(s, word).ok_or_else(|| format!("{word}: empty query"))?;
    for term in query.words() {
        if !index.contains(&term) {
            return Err(format!(
                "{word}: query term {term} not in index of {text}: {index:?}"
            ));
        }
    }
    Ok(())
}

#[test]
fn hard_words_are_one_term_and_found_in_context() {
    let s = segmenter();
    for word in HARD_WORDS {
        assert_eq!(s.query_terms(word), vec![(*word).to_owned()], "{word}");
        for (before, after) in CONTEXTS {
            if let Err(e) = query_terms_in_index(word, before, after) {
                panic!("{e}");
            }
        }
    }
}

#[test]
fn long_words_are_found_by_their_parts() {
    let s = segmenter();
    let index = s.index_terms("小区燃气味很重，幸福路路灯不亮");
    for part in ["燃气", "燃气味", "路灯", "路灯不亮"] {
        assert!(index.contains(&part.to_owned()), "{part} in {index:?}");
    }
}

#[test]
fn place_names_come_out_whole_once_added() {
    let s = segmenter();
    s.add_words(["澜江区", "青石街道", "幸福里社区"]);
    let terms = s.query_terms("澜江区青石街道幸福里社区停水");
    for place in ["澜江区", "青石街道", "幸福里社区", "停水"] {
        assert!(terms.contains(&place.to_owned()), "{place} in {terms:?}");
    }
    // Adding again is a no-op.
    assert_eq!(s.add_words(["澜江区"]), 0);
}

#[test]
fn punctuation_particles_and_width_are_dropped_or_folded() {
    let s = segmenter();
    let terms = s.index_terms("的了，。！？ ＷＩＦＩ坏了");
    assert!(
        terms.iter().all(|t| t.chars().all(char::is_alphanumeric)),
        "{terms:?}"
    );
    assert!(!terms.contains(&"的".to_owned()));
    assert!(terms.contains(&"wifi".to_owned()), "{terms:?}");
    assert!(SearchQuery::parse(s, "的了。，").is_none());
}

#[test]
fn order_numbers_are_prefix_terms() {
    let query = SearchQuery::parse(segmenter(), "2026112800").expect("query");
    assert!(query.terms[0].prefix);
    assert_eq!(query.fts5_match(None), "\"2026112800\"*");
    assert_eq!(query.tsquery_literal(), "'2026112800':*");
}

#[test]
fn the_same_matter_in_other_words_is_similar_and_another_matter_is_not() {
    let s = segmenter();
    let lamp_a = TextProfile::of(s, "幸福路的路灯不亮了，晚上走路很黑");
    let lamp_b = TextProfile::of(s, "幸福路路灯坏了好几天，一到晚上漆黑一片");
    let noise = TextProfile::of(s, "楼下烧烤店噪音扰民到凌晨两点");
    let gas = TextProfile::of(s, "小区燃气味很重，怀疑有漏气");
    let same = lamp_a.similarity(&lamp_b);
    assert!(same > 0.3, "same matter scored {same}");
    for other in [&noise, &gas] {
        let different = lamp_a.similarity(other);
        assert!(
            different < same / 2.0,
            "different matter scored {different}"
        );
    }
    assert!((lamp_a.similarity(&lamp_a) - 1.0).abs() < 1e-9);
    let shared = lamp_a.shared_words(&lamp_b);
    assert_eq!(
        shared.first().map(String::as_str),
        Some("路灯"),
        "{shared:?}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any hard word between any of a pool of ordinary words is found by its query.
    #[test]
    fn a_word_in_any_context_is_found(
        word in prop::sample::select(HARD_WORDS),
        before in prop::sample::select(&["", "我们小区", "门口", "昨天晚上", "东门", "居民楼"][..]),
        after in prop::sample::select(&["", "很严重", "没人管", "好几天", "影响出行", "了"][..]),
    ) {
        prop_assert!(query_terms_in_index(word, before, after).is_ok(),
            "{}", query_terms_in_index(word, before, after).err().unwrap_or_default());
    }

    /// Similarity is symmetric and between 0 and 1 for any texts.
    #[test]
    fn similarity_is_symmetric_and_bounded(a in "\\PC{0,40}", b in "\\PC{0,40}") {
        let s = segmenter();
        let (pa, pb) = (TextProfile::of(s, &a), TextProfile::of(s, &b));
        let (ab, ba) = (pa.similarity(&pb), pb.similarity(&pa));
        prop_assert!((ab - ba).abs() < 1e-9);
        prop_assert!((0.0..=1.0).contains(&ab));
    }
}

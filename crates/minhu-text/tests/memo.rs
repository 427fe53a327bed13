//! The clause memo of a bulk load cuts every text into exactly the terms the segmenter gives it,
//! however the clauses repeat and however small the memo is.

use minhu_text::{IndexTerms, TermMemo, push_words, segmenter};
use proptest::prelude::*;

/// Pieces the texts are made of: clauses that repeat, words that run across punctuation-free
/// joins, ASCII and full-width forms, connectors jieba keeps inside a word, and every kind of
/// break the memo splits at (and some it must not), a compatibility comma (`﹐`, which NFKC
/// makes a break), combining accents after letters and after breaks, and upper case.
const PIECES: &[&str] = &[
    "小区燃气味很重",
    "幸福路路灯不亮",
    "已经三天了",
    "楼上装修噪音扰民",
    "希望尽快处理",
    "桂花东路128号",
    "A-3栋",
    "WiFi",
    "ＡＢＣ１２３",
    "①号井盖",
    "5.4.5版",
    "C++",
    "张女士",
    "市民称",
    "，",
    "。",
    "：",
    "；",
    "、",
    "（",
    "）",
    "！",
    "？",
    "“",
    "”",
    "《",
    "》",
    " ",
    "\u{3000}",
    ",",
    "-",
    ".",
    "#",
    "\n",
    "\r\n",
    "﹐",
    "Ｗｉ\u{FF26}ｉ",
    "e\u{301}",
    "\u{301}",
    "\u{FF45}\u{301}路",
];

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(PIECES), 0..24).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn the_memo_cuts_every_text_as_the_segmenter_does(
        texts in prop::collection::vec(text(), 1..12),
        capacity in 1usize..6,
    ) {
        let segmenter = segmenter();
        let memo = TermMemo::new(segmenter, capacity);
        // Twice over, so that the second pass is answered from the memo.
        for text in texts.iter().chain(texts.iter()) {
            prop_assert_eq!(memo.index_terms(text), segmenter.index_terms(text), "{:?}", text);
        }
    }

    #[test]
    fn the_memo_writes_out_every_text_as_the_segmenter_does(
        texts in prop::collection::vec(text(), 1..12),
        capacity in 1usize..6,
    ) {
        let segmenter = segmenter();
        let memo = TermMemo::new(segmenter, capacity);
        // Several texts into one field, as a search document's body holds content and replies,
        // some of them with no words at all; twice over, the second pass from the memo.
        for _ in 0..2 {
            let (mut terms, mut similarity) = (String::new(), String::new());
            let (mut expected_terms, mut expected_similarity) = (String::new(), String::new());
            for text in &texts {
                memo.push_terms(text, &mut terms, Some(&mut similarity));
                let cut = segmenter.index_terms(text);
                push_words(&mut expected_similarity, segmenter.similarity_words(cut.clone()));
                push_words(&mut expected_terms, cut);
            }
            prop_assert_eq!(&terms, &expected_terms, "{:?}", texts);
            prop_assert_eq!(&similarity, &expected_similarity, "{:?}", texts);
            let mut plain = String::new();
            for text in &texts {
                segmenter.push_terms(text, &mut plain, None);
            }
            prop_assert_eq!(&plain, &expected_terms);
        }
    }
}

#[test]
fn a_remembered_clause_gives_its_terms_again_in_another_text() {
    let segmenter = segmenter();
    let memo = TermMemo::new(segmenter, 100);
    let first = "小区燃气味很重，请尽快处理。";
    let second = "请尽快处理：幸福路路灯不亮";
    assert_eq!(memo.index_terms(first), segmenter.index_terms(first));
    assert_eq!(memo.index_terms(second), segmenter.index_terms(second));
    assert!(memo.index_terms(second).contains(&"路灯".to_owned()));
}

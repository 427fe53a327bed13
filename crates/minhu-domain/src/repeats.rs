//! Repeat and similar orders (重复件): how alike a new request is to an open order, from the text
//! similarity (computed by the text layer), the place, the category and the caller, with the
//! reasons an agent reads before merging (并单).

use serde::{Deserialize, Serialize};

/// What decides a candidate's score; configurable per centre.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RepeatRules {
    /// Only orders registered within this many days before the new one are candidates.
    pub window_days: u32,
    /// A candidate at or above this score is shown as a likely repeat.
    pub threshold: f64,
}

impl Default for RepeatRules {
    fn default() -> Self {
        Self {
            window_days: 30,
            threshold: 0.5,
        }
    }
}

/// How a candidate relates to the request being registered.
#[derive(Debug, Clone, PartialEq)]
pub struct RepeatEvidence {
    /// Weighted word similarity of title and content, 0.0 to 1.0.
    pub text_similarity: f64,
    /// The words both hold, weightiest first.
    pub shared_words: Vec<String>,
    pub same_community: bool,
    /// Both have a community and they differ: the same kind of matter somewhere else (the
    /// lamps of another estate) is another matter.
    pub different_community: bool,
    pub same_street: bool,
    pub same_category: bool,
    /// Same parent category (e.g. both under 供水) but not the same leaf.
    pub sibling_category: bool,
    pub same_caller: bool,
}

/// A scored candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepeatScore {
    /// 0.0 to 1.0.
    pub score: f64,
    /// Why, in Chinese, most telling first.
    pub reasons: Vec<String>,
}

/// Weight of the text in the score; place, category and caller share the rest.
const TEXT_WEIGHT: f64 = 0.6;
const COMMUNITY_WEIGHT: f64 = 0.15;
const STREET_WEIGHT: f64 = 0.08;
const CATEGORY_WEIGHT: f64 = 0.2;
const SIBLING_CATEGORY_WEIGHT: f64 = 0.08;
const CALLER_WEIGHT: f64 = 0.05;
/// Taken off when the communities differ.
const OTHER_COMMUNITY_PENALTY: f64 = 0.4;
/// How many shared words a reason names.
const REASON_WORDS: usize = 5;

/// The score of one candidate.
pub fn score(evidence: &RepeatEvidence) -> RepeatScore {
    let text = evidence.text_similarity.clamp(0.0, 1.0);
    let place = if evidence.same_community {
        COMMUNITY_WEIGHT
    } else if evidence.same_street {
        STREET_WEIGHT
    } else {
        0.0
    };
    let category = if evidence.same_category {
        CATEGORY_WEIGHT
    } else if evidence.sibling_category {
        SIBLING_CATEGORY_WEIGHT
    } else {
        0.0
    };
    let caller = if evidence.same_caller {
        CALLER_WEIGHT
    } else {
        0.0
    };
    let penalty = if evidence.different_community && !evidence.same_community {
        OTHER_COMMUNITY_PENALTY
    } else {
        0.0
    };
    let score = (TEXT_WEIGHT * text + place + category + caller - penalty).clamp(0.0, 1.0);

    let mut reasons = Vec::new();
    if text > 0.0 {
        let words: Vec<&str> = evidence
            .shared_words
            .iter()
            .take(REASON_WORDS)
            .map(String::as_str)
            .collect();
        reasons.push(if words.is_empty() {
            format!("内容相似度 {:.0}%", text * 100.0)
        } else {
            format!(
                "内容相似度 {:.0}%（共有：{}）",
                text * 100.0,
                words.join("、")
            )
        });
    }
    if evidence.same_community {
        reasons.push("同一社区".to_owned());
    } else if evidence.same_street {
        reasons.push(if evidence.different_community {
            "同一街道的另一社区".to_owned()
        } else {
            "同一街道".to_owned()
        });
    } else if evidence.different_community {
        reasons.push("不同社区".to_owned());
    }
    if evidence.same_category {
        reasons.push("同一类别".to_owned());
    } else if evidence.sibling_category {
        reasons.push("同一大类".to_owned());
    }
    if evidence.same_caller {
        reasons.push("同一来电号码".to_owned());
    }
    RepeatScore { score, reasons }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn evidence(text: f64) -> RepeatEvidence {
        RepeatEvidence {
            text_similarity: text,
            shared_words: vec!["路灯".into(), "不亮".into()],
            same_community: false,
            different_community: false,
            same_street: false,
            same_category: false,
            sibling_category: false,
            same_caller: false,
        }
    }

    #[test]
    fn place_and_category_add_to_the_text() {
        let alone = score(&evidence(0.5));
        let near = score(&RepeatEvidence {
            same_community: true,
            same_category: true,
            ..evidence(0.5)
        });
        assert!(near.score > alone.score);
        assert_eq!(
            near.reasons,
            vec!["内容相似度 50%（共有：路灯、不亮）", "同一社区", "同一类别"]
        );
    }

    #[test]
    fn scores_stay_between_zero_and_one() {
        let all = RepeatEvidence {
            same_community: true,
            different_community: false,
            same_street: true,
            same_category: true,
            sibling_category: true,
            same_caller: true,
            ..evidence(3.0)
        };
        assert!((score(&all).score - 1.0).abs() < 1e-9);
        assert!(score(&evidence(-1.0)).score.abs() < 1e-9);
        assert!(score(&evidence(0.0)).reasons.is_empty());
    }

    #[test]
    fn another_community_counts_against() {
        let here = RepeatEvidence {
            same_street: true,
            same_category: true,
            ..evidence(0.7)
        };
        let elsewhere = RepeatEvidence {
            different_community: true,
            ..here.clone()
        };
        assert!(score(&elsewhere).score + 0.25 < score(&here).score);
        assert!(
            score(&elsewhere)
                .reasons
                .contains(&"同一街道的另一社区".to_owned())
        );
    }
}

//! Text similarity for repeat detection (重复件): two requests are compared by the words they
//! share, each word weighted by what it says about the matter — a domain word (`井盖`, `燃气味`)
//! more than an ordinary one, a single character little, fillers and particles not at all.

use std::collections::HashMap;

use crate::segment::Segmenter;

/// A text reduced to its weighted words.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TextProfile {
    weights: HashMap<String, f64>,
    norm: f64,
}

/// Weight of a domain-dictionary word.
pub const DOMAIN_WEIGHT: f64 = 2.0;
/// Weight of an ordinary word of two or more characters.
pub const WORD_WEIGHT: f64 = 1.0;
/// Weight of a single character or a bare number.
pub const MINOR_WEIGHT: f64 = 0.3;

impl TextProfile {
    /// The profile of `text`.
    pub fn of(segmenter: &Segmenter, text: &str) -> Self {
        Self::from_words(segmenter, segmenter.content_words(text))
    }

    /// The profile of words already cut (see [`Segmenter::content_words`]).
    pub fn from_words(segmenter: &Segmenter, words: impl IntoIterator<Item = String>) -> Self {
        let mut weights: HashMap<String, f64> = HashMap::new();
        for word in words {
            let weight = word_weight(segmenter, &word);
            if weight > 0.0 {
                // A word said twice counts once: repetition is emphasis, not a second matter.
                weights.entry(word).or_insert(weight);
            }
        }
        let norm = weights.values().map(|w| w * w).sum::<f64>().sqrt();
        Self { weights, norm }
    }

    /// Whether the text had no word that counts.
    pub fn is_empty(&self) -> bool {
        self.weights.is_empty()
    }

    /// Cosine similarity of the two weighted word sets, 0.0 to 1.0.
    pub fn similarity(&self, other: &Self) -> f64 {
        if self.norm == 0.0 || other.norm == 0.0 {
            return 0.0;
        }
        let (small, large) = if self.weights.len() <= other.weights.len() {
            (self, other)
        } else {
            (other, self)
        };
        let dot: f64 = small
            .weights
            .iter()
            .filter_map(|(word, w)| large.weights.get(word).map(|v| w * v))
            .sum();
        (dot / (self.norm * other.norm)).clamp(0.0, 1.0)
    }

    /// The words both texts hold, weightiest first (then in character order, for stable output).
    pub fn shared_words(&self, other: &Self) -> Vec<String> {
        let mut shared: Vec<(&String, f64)> = self
            .weights
            .iter()
            .filter(|(word, _)| other.weights.contains_key(*word))
            .map(|(word, w)| (word, *w))
            .collect();
        shared.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        shared.into_iter().map(|(w, _)| w.clone()).collect()
    }
}

fn word_weight(segmenter: &Segmenter, word: &str) -> f64 {
    if segmenter.is_stopword(word) || segmenter.is_filler(word) {
        0.0
    } else if segmenter.is_domain_word(word) {
        DOMAIN_WEIGHT
    } else if word.chars().count() < 2 || word.chars().all(|c| c.is_ascii_digit()) {
        MINOR_WEIGHT
    } else {
        WORD_WEIGHT
    }
}

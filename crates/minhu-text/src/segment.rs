//! Word segmentation (分词): jieba with its embedded dictionary plus minhu's domain dictionary
//! (`data/domain-words.txt`), text normalisation, and the two ways of cutting text — for the index
//! (search mode: whole words and the dictionary words inside them) and for queries (exact mode).

use std::collections::{HashMap, HashSet};
use std::sync::{OnceLock, PoisonError, RwLock};

use jieba_rs::Jieba;
use unicode_normalization::UnicodeNormalization;

const DOMAIN_WORDS: &str = include_str!("../data/domain-words.txt");
const STOPWORDS: &str = include_str!("../data/stopwords.txt");
const FILLERS: &str = include_str!("../data/fillers.txt");
const SYNONYMS: &str = include_str!("../data/synonyms.txt");

/// The words of one of the data lists (whitespace separated, `#` comments).
fn list_words(list: &'static str) -> impl Iterator<Item = &'static str> {
    list.lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .flat_map(str::split_whitespace)
}

/// A segmenter: jieba's dictionary, the domain dictionary and any words added later (the place
/// names of the unit tree, see [`Segmenter::add_words`]).
///
/// Building one takes about half a second (jieba decompresses and loads its dictionary), so the
/// process shares one through [`segmenter`]; build it early with [`warm_up`].
pub struct Segmenter {
    jieba: RwLock<Jieba>,
    domain: HashSet<&'static str>,
    stopwords: HashSet<&'static str>,
    fillers: HashSet<&'static str>,
    /// Variant → canonical word, for similarity.
    synonyms: HashMap<&'static str, &'static str>,
}

impl std::fmt::Debug for Segmenter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Segmenter")
            .field("domain_words", &self.domain.len())
            .finish_non_exhaustive()
    }
}

static SHARED: OnceLock<Segmenter> = OnceLock::new();

/// The process's segmenter, built on first use.
pub fn segmenter() -> &'static Segmenter {
    SHARED.get_or_init(Segmenter::new)
}

/// Builds the shared segmenter now (call it off the request path at start-up).
pub fn warm_up() {
    let _ = segmenter();
}

impl Default for Segmenter {
    fn default() -> Self {
        Self::new()
    }
}

impl Segmenter {
    /// jieba's dictionary plus the domain dictionary.
    pub fn new() -> Self {
        let mut jieba = Jieba::new();
        let domain: HashSet<&'static str> = list_words(DOMAIN_WORDS).collect();
        for word in &domain {
            // Without a frequency jieba suggests one just high enough for the word to be cut out.
            jieba.add_word(word, None, None);
        }
        Self {
            jieba: RwLock::new(jieba),
            domain,
            stopwords: list_words(STOPWORDS).collect(),
            fillers: list_words(FILLERS).collect(),
            synonyms: SYNONYMS
                .lines()
                .filter(|line| !line.trim_start().starts_with('#'))
                .filter_map(|line| {
                    let mut words = line.split_whitespace();
                    let canonical = words.next()?;
                    Some(words.map(move |variant| (variant, canonical)))
                })
                .flatten()
                .collect(),
        }
    }

    /// Adds words (place names) to the dictionary, so that they come out of segmentation whole;
    /// returns how many were new. Texts indexed before keep their old cut until reindexed.
    pub fn add_words<'a>(&self, words: impl IntoIterator<Item = &'a str>) -> usize {
        let words: Vec<String> = words
            .into_iter()
            .map(normalize)
            .filter(|w| w.chars().count() >= 2 && w.chars().all(char::is_alphanumeric))
            .collect();
        let missing: Vec<&String> = {
            let jieba = self.jieba.read().unwrap_or_else(PoisonError::into_inner);
            words.iter().filter(|w| !jieba.has_word(w)).collect()
        };
        if missing.is_empty() {
            return 0;
        }
        let mut jieba = self.jieba.write().unwrap_or_else(PoisonError::into_inner);
        let mut added = 0;
        for word in missing {
            if !jieba.has_word(word) {
                jieba.add_word(word, None, None);
                added += 1;
            }
        }
        added
    }

    fn cut_with<R>(&self, f: impl FnOnce(&Jieba) -> R) -> R {
        let jieba = self.jieba.read().unwrap_or_else(PoisonError::into_inner);
        f(&jieba)
    }

    /// Whether `word` is in the domain dictionary.
    pub fn is_domain_word(&self, word: &str) -> bool {
        self.domain.contains(word)
    }

    /// Whether `word` is a particle or pronoun (never indexed or searched).
    pub fn is_stopword(&self, word: &str) -> bool {
        self.stopwords.contains(word)
    }

    /// Whether `word` is a hotline filler (indexed, but not counted in similarity).
    pub fn is_filler(&self, word: &str) -> bool {
        self.fillers.contains(word)
    }

    /// The index terms of `text`, in text order, repeats kept: each word of an exact cut followed
    /// by the dictionary words inside it (so `路灯不亮` yields `路灯`, `不亮`, `路灯不亮` when the
    /// last is a word). Punctuation, whitespace and particles are left out.
    pub fn index_terms(&self, text: &str) -> Vec<String> {
        self.index_terms_of_normalized(&normalize(text))
    }

    /// [`Segmenter::index_terms`] of a text [`normalize`] has folded already.
    pub(crate) fn index_terms_of_normalized(&self, text: &str) -> Vec<String> {
        self.cut_with(|jieba| {
            jieba
                .cut_for_search(text, true)
                .into_iter()
                .filter_map(|token| self.keep(token.word))
                .collect()
        })
    }

    /// The terms of a query: an exact cut (so a long word is one term, which the index also
    /// holds), without repeats, particles or punctuation.
    pub fn query_terms(&self, query: &str) -> Vec<String> {
        let text = normalize(query);
        let mut seen = HashSet::new();
        self.cut_with(|jieba| {
            jieba
                .cut(&text, true)
                .into_iter()
                .filter_map(|token| self.keep(token.word))
                .filter(|term| seen.insert(term.clone()))
                .collect()
        })
    }

    /// The words of `text` for similarity: the index terms (a long word with the words inside
    /// it, so `路灯不亮` and `路灯坏了` share `路灯`) without fillers, synonyms folded into one
    /// word (`断水` counts as `停水`, see `data/synonyms.txt`).
    pub fn content_words(&self, text: &str) -> Vec<String> {
        self.similarity_words(self.index_terms(text))
    }

    /// The similarity words ([`Segmenter::content_words`]) of a text whose index terms
    /// ([`Segmenter::index_terms`]) are `terms`: the same words without cutting the text again.
    pub fn similarity_words(&self, terms: impl IntoIterator<Item = String>) -> Vec<String> {
        terms
            .into_iter()
            .filter(|term| !self.is_filler(term))
            .map(|term| match self.synonyms.get(term.as_str()) {
                Some(canonical) => (*canonical).to_owned(),
                None => term,
            })
            .collect()
    }

    fn keep(&self, word: &str) -> Option<String> {
        let word = word.trim();
        if word.is_empty() || self.is_stopword(word) {
            return None;
        }
        // A term is made of letters and digits only (punctuation joining parts, as in
        // `A-3`, would be split by the database's tokenizer anyway); one without any is none.
        let clean: String = word.chars().filter(|c| is_term_char(*c)).collect();
        (!clean.is_empty()).then_some(clean)
    }
}

/// The common CJK ideographs (U+4E00–U+9FFF): every one is alphanumeric (a letter) and has no
/// case. Most of a Chinese text is made of them, and the standard library looks each non-ASCII
/// character up in its tables; the range test answers for them first.
fn is_common_ideograph(c: char) -> bool {
    ('\u{4E00}'..='\u{9FFF}').contains(&c)
}

/// Whether `c` stays in an index term: a letter or a digit ([`char::is_alphanumeric`]).
fn is_term_char(c: char) -> bool {
    is_common_ideograph(c) || c.is_alphanumeric()
}

/// Folds the text the way both the index and queries see it: NFKC (full-width letters and
/// digits become half-width, `①` becomes `1`), lower case.
///
/// A text that is NFKC already (the quick check says so for nearly every Chinese text) is not
/// decomposed and composed again, and characters without case are copied as they are: the same
/// result as folding every character, at a fraction of the cost (the generator spent 5 % of its
/// time here).
pub fn normalize(text: &str) -> String {
    let mut folded = String::with_capacity(text.len());
    if unicode_normalization::is_nfkc_quick(text.chars())
        == unicode_normalization::IsNormalized::Yes
    {
        fold_case(text.chars(), &mut folded);
    } else {
        fold_case(text.nfkc(), &mut folded);
    }
    folded
}

/// Appends `chars` in lower case to `out`.
fn fold_case(chars: impl Iterator<Item = char>, out: &mut String) {
    for c in chars {
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
        } else if is_caseless_cjk(c) {
            out.push(c);
        } else {
            out.extend(c.to_lowercase());
        }
    }
}

/// CJK punctuation, kana, the compatibility and extension-A blocks and the common ideographs
/// (U+3000–U+9FFF): none has a lower-case form.
fn is_caseless_cjk(c: char) -> bool {
    ('\u{3000}'..='\u{9FFF}').contains(&c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_full_width_and_case() {
        assert_eq!(normalize("ＡＢＣ１２３"), "abc123");
        assert_eq!(normalize("Wifi"), "wifi");
    }

    #[test]
    fn the_ideograph_shortcuts_agree_with_the_standard_library() {
        for c in '\u{3000}'..='\u{9FFF}' {
            assert!(c.to_lowercase().eq([c]), "{c:?} has a lower case");
            if is_common_ideograph(c) {
                assert!(c.is_alphanumeric(), "{c:?} is not alphanumeric");
            }
        }
    }

    #[test]
    fn normalising_is_nfkc_then_lower_case_for_every_kind_of_text() {
        for text in [
            "小区东门路灯不亮，已经三天了",
            "ＡＢＣ１２３号楼Ｂ座",
            "①号井盖缺失",
            "WiFi信号差ΣΑΣ",
            "カタカナ㎏ﾊﾝｶｸ",
            "e\u{301}clair Straße İstanbul",
            "",
        ] {
            let reference: String = text.nfkc().flat_map(char::to_lowercase).collect();
            assert_eq!(normalize(text), reference, "{text}");
        }
    }

    #[test]
    fn a_word_of_punctuation_or_a_particle_is_no_term() {
        let segmenter = Segmenter::new();
        assert_eq!(segmenter.keep(" ，。 "), None);
        assert_eq!(segmenter.keep("的"), None);
        assert_eq!(segmenter.keep("A-3"), Some("A3".to_owned()));
        assert_eq!(segmenter.keep(" 路灯 "), Some("路灯".to_owned()));
    }

    #[test]
    fn lists_skip_comments() {
        assert!(list_words(DOMAIN_WORDS).all(|w| !w.starts_with('#')));
        assert!(list_words(DOMAIN_WORDS).any(|w| w == "井盖"));
    }
}

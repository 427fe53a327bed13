//! Index terms of many similar texts, each clause cut once: a bulk load (`minhu gen`) builds its
//! texts from templates, so most of its clauses — a story's sentences, a unit's reply — come back
//! again and again, and jieba is the largest part of making a search document.
//!
//! Cutting clause by clause gives exactly the terms of cutting the whole text: jieba cuts each
//! run of CJK characters, ASCII letters and digits (and `+#&._%-`) on its own, and every
//! character the text is split at here is outside those runs and is no term itself.
//!
//! A text is split before it is normalised, and a clause is remembered as it was written, so
//! that a clause met again is neither normalised nor cut: the normalisation (NFKC, lower case)
//! was a third of the memo's time, since nearly every Chinese text has a full-width comma,
//! which NFKC's quick check does not pass. Normalising clause by clause gives the normalised
//! text's clauses: every break here is a starter that composes with nothing, before or after.

use std::cell::RefCell;
use std::collections::HashMap;

use crate::segment::{Segmenter, normalize};

/// Something that cuts a text into its index terms: the [`Segmenter`] itself, or a [`TermMemo`]
/// over it that remembers the clauses it has cut.
pub trait IndexTerms {
    /// The index terms of `text`, as [`Segmenter::index_terms`] gives them.
    fn index_terms(&self, text: &str) -> Vec<String>;
    /// The segmenter underneath (for what is not cut: stopwords, fillers, synonyms).
    fn segmenter(&self) -> &Segmenter;

    /// Appends the index terms of `text` to `terms`, space-separated as an FTS5 column holds
    /// them, and, if asked, its similarity words ([`Segmenter::similarity_words`]) to
    /// `similarity` the same way. A [`TermMemo`] writes a known clause's words out whole,
    /// without a string per word.
    fn push_terms(&self, text: &str, terms: &mut String, similarity: Option<&mut String>) {
        let cut = self.index_terms(text);
        if let Some(similarity) = similarity {
            push_words(
                similarity,
                self.segmenter().similarity_words(cut.iter().cloned()),
            );
        }
        push_words(terms, cut);
    }
}

/// Appends `words` to `out`, each after a space unless `out` is empty: a text of words joined by
/// spaces, which a word never holds ([`Segmenter::index_terms`] keeps letters and digits only).
pub fn push_words(out: &mut String, words: impl IntoIterator<Item = impl AsRef<str>>) {
    for word in words {
        let word = word.as_ref();
        if word.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
}

impl IndexTerms for Segmenter {
    fn index_terms(&self, text: &str) -> Vec<String> {
        Segmenter::index_terms(self, text)
    }

    fn segmenter(&self) -> &Segmenter {
        self
    }
}

/// Where a normalised text is split into clauses: punctuation (after NFKC, full-width `，；：（）！？`
/// are their ASCII forms) and spaces, none of which jieba joins to a neighbouring word.
fn is_clause_break(c: char) -> bool {
    matches!(
        c,
        ',' | ';' | ':' | '(' | ')' | '!' | '?' | ' ' | '。' | '、' | '“' | '”' | '《' | '》'
    )
}

/// Where a text is split into clauses before it is normalised: the breaks of
/// [`is_clause_break`] and the full-width forms NFKC folds into them (the ideographic space
/// becomes a space).
fn is_written_clause_break(c: char) -> bool {
    is_clause_break(c)
        || matches!(
            c,
            '，' | '；' | '：' | '（' | '）' | '！' | '？' | '\u{3000}'
        )
}

/// A [`Segmenter`] that remembers the terms of the clauses it cut, for one thread.
///
/// It keeps two generations of at most `capacity` clauses each: when the newer is full it
/// becomes the older and the oldest is dropped, and a clause found in the older moves to the
/// newer. A clause used again and again stays; one seen once (a house number) goes.
pub struct TermMemo<'a> {
    segmenter: &'a Segmenter,
    capacity: usize,
    clauses: RefCell<Generations>,
}

/// What the memo keeps of a clause: its words written out, as [`IndexTerms::push_terms`]
/// appends them. A string per clause rather than one per word: copying a known clause's words
/// one by one into new strings, and freeing them after, was most of a load's document time.
struct ClauseWords {
    /// The index terms, space-separated.
    terms: String,
    /// The similarity words, space-separated.
    similarity: String,
}

#[derive(Default)]
struct Generations {
    newer: HashMap<String, ClauseWords>,
    older: HashMap<String, ClauseWords>,
}

impl<'a> TermMemo<'a> {
    /// A memo over `segmenter` holding up to `capacity` clauses in each of its two generations.
    pub fn new(segmenter: &'a Segmenter, capacity: usize) -> Self {
        Self {
            segmenter,
            capacity: capacity.max(1),
            clauses: RefCell::new(Generations::default()),
        }
    }

    /// Calls `visit` with the words of each clause of `text` as written, cut now or remembered.
    fn each_clause(&self, text: &str, mut visit: impl FnMut(&ClauseWords)) {
        let mut memo = self.clauses.borrow_mut();
        for clause in text
            .split(is_written_clause_break)
            .filter(|c| !c.is_empty())
        {
            if let Some(known) = memo.newer.get(clause) {
                visit(known);
                continue;
            }
            let cut = match memo.older.remove(clause) {
                Some(known) => known,
                None => self.cut_clause(clause),
            };
            visit(&cut);
            if memo.newer.len() >= self.capacity {
                memo.older = std::mem::take(&mut memo.newer);
            }
            memo.newer.insert(clause.to_owned(), cut);
        }
    }

    /// The words of a clause as written: normalised, then cut at the breaks normalisation may
    /// have made (a compatibility form of a comma, say).
    fn cut_clause(&self, clause: &str) -> ClauseWords {
        let normalized = normalize(clause);
        let mut terms = Vec::new();
        for piece in normalized.split(is_clause_break).filter(|p| !p.is_empty()) {
            terms.extend(self.segmenter.index_terms_of_normalized(piece));
        }
        let mut words = ClauseWords {
            terms: String::new(),
            similarity: String::new(),
        };
        push_words(
            &mut words.similarity,
            self.segmenter.similarity_words(terms.iter().cloned()),
        );
        push_words(&mut words.terms, terms);
        words
    }
}

impl IndexTerms for TermMemo<'_> {
    fn index_terms(&self, text: &str) -> Vec<String> {
        let mut terms = Vec::new();
        self.each_clause(text, |clause| {
            terms.extend(
                clause
                    .terms
                    .split(' ')
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned),
            );
        });
        terms
    }

    fn segmenter(&self) -> &Segmenter {
        self.segmenter
    }

    fn push_terms(&self, text: &str, terms: &mut String, mut similarity: Option<&mut String>) {
        self.each_clause(text, |clause| {
            push_words(terms, [clause.terms.as_str()]);
            if let Some(similarity) = similarity.as_deref_mut() {
                push_words(similarity, [clause.similarity.as_str()]);
            }
        });
    }
}

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

#[derive(Default)]
struct Generations {
    newer: HashMap<String, Vec<String>>,
    older: HashMap<String, Vec<String>>,
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

    /// The terms of one clause as written, cut now or remembered.
    fn clause_terms(&self, clause: &str, terms: &mut Vec<String>) {
        let mut memo = self.clauses.borrow_mut();
        if let Some(known) = memo.newer.get(clause) {
            terms.extend_from_slice(known);
            return;
        }
        let cut = match memo.older.remove(clause) {
            Some(known) => known,
            None => self.cut_clause(clause),
        };
        terms.extend_from_slice(&cut);
        if memo.newer.len() >= self.capacity {
            memo.older = std::mem::take(&mut memo.newer);
        }
        memo.newer.insert(clause.to_owned(), cut);
    }

    /// The terms of a clause as written: normalised, then cut at the breaks normalisation may
    /// have made (a compatibility form of a comma, say).
    fn cut_clause(&self, clause: &str) -> Vec<String> {
        let normalized = normalize(clause);
        let mut terms = Vec::new();
        for piece in normalized.split(is_clause_break).filter(|p| !p.is_empty()) {
            terms.extend(self.segmenter.index_terms_of_normalized(piece));
        }
        terms
    }
}

impl IndexTerms for TermMemo<'_> {
    fn index_terms(&self, text: &str) -> Vec<String> {
        let mut terms = Vec::new();
        for clause in text
            .split(is_written_clause_break)
            .filter(|c| !c.is_empty())
        {
            self.clause_terms(clause, &mut terms);
        }
        terms
    }

    fn segmenter(&self) -> &Segmenter {
        self.segmenter
    }
}

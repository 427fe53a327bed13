//! Search documents and queries in the two databases' own languages: SQLite FTS5 (a column of
//! space-separated terms and a MATCH expression) and PostgreSQL (a `tsvector` literal with
//! positions and weights and a `tsquery` literal). Both are built here from the same terms, so the
//! backends find the same things.

use crate::memo::IndexTerms;
use crate::segment::Segmenter;

/// How much a field weighs in ranking (PostgreSQL's weight letters; FTS5 gets per-column
/// weights in its `bm25()` call from the storage layer in the same order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldWeight {
    /// Titles.
    A,
    /// Keywords and names.
    B,
    /// Addresses and short fields.
    C,
    /// Long text: content, replies.
    D,
}

impl FieldWeight {
    fn letter(self) -> char {
        match self {
            Self::A => 'A',
            Self::B => 'B',
            Self::C => 'C',
            Self::D => 'D',
        }
    }
}

/// The terms of one indexed field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldTerms {
    pub terms: Vec<String>,
}

impl FieldTerms {
    /// The terms of the texts, in order (several texts make one field: content and replies).
    pub fn of<'a>(segmenter: &impl IndexTerms, texts: impl IntoIterator<Item = &'a str>) -> Self {
        let terms = texts
            .into_iter()
            .flat_map(|text| segmenter.index_terms(text))
            .collect();
        Self { terms }
    }

    /// The FTS5 column text: the terms separated by spaces.
    pub fn fts_text(&self) -> String {
        self.terms.join(" ")
    }
}

/// PostgreSQL's largest position in a `tsvector`.
const MAX_POSITION: usize = 16_383;

/// A `tsvector` literal (to be cast with `::tsvector`) of the fields, each with its weight;
/// positions run on across fields. Lexemes are quoted, so no text can break out of them.
pub fn tsvector_literal(fields: &[(&FieldTerms, FieldWeight)]) -> String {
    let mut out = String::new();
    let mut position = 0usize;
    for (field, weight) in fields {
        for term in &field.terms {
            position = (position + 1).min(MAX_POSITION);
            if !out.is_empty() {
                out.push(' ');
            }
            push_quoted(&mut out, term);
            out.push(':');
            out.push_str(&position.to_string());
            out.push(weight.letter());
        }
    }
    out
}

fn push_quoted(out: &mut String, term: &str) {
    out.push('\'');
    for c in term.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' => out.push_str("\\\\"),
            _ => out.push(c),
        }
    }
    out.push('\'');
}

/// A parsed search: the terms every hit must hold, and whether the last one is a prefix (an order
/// number or a phone typed in part).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    pub terms: Vec<QueryTerm>,
}

/// One term of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryTerm {
    pub text: String,
    /// Matches any indexed term that starts with `text` (digit runs of 4 or more: order numbers).
    pub prefix: bool,
}

/// How many terms a query keeps (the rest of a pasted paragraph adds nothing but cost).
pub const MAX_QUERY_TERMS: usize = 12;

impl SearchQuery {
    /// Cuts `query` into terms; `None` when nothing searchable is left.
    pub fn parse(segmenter: &Segmenter, query: &str) -> Option<Self> {
        let terms: Vec<QueryTerm> = segmenter
            .query_terms(query)
            .into_iter()
            .take(MAX_QUERY_TERMS)
            .map(|text| {
                let prefix = text.len() >= 4 && text.chars().all(|c| c.is_ascii_digit());
                QueryTerm { text, prefix }
            })
            .collect();
        (!terms.is_empty()).then_some(Self { terms })
    }

    /// The plain terms, for highlighting.
    pub fn words(&self) -> Vec<String> {
        self.terms.iter().map(|t| t.text.clone()).collect()
    }

    /// An FTS5 MATCH expression requiring every term, limited to `columns` when given
    /// (`{title_terms body_terms}`), every term a quoted string so no query syntax leaks in.
    pub fn fts5_match(&self, columns: Option<&[&str]>) -> String {
        self.fts5(columns, " AND ")
    }

    /// A `tsquery` literal (to be cast with `::tsquery`) requiring every term.
    pub fn tsquery_literal(&self) -> String {
        self.tsquery(" & ")
    }

    /// The FTS5 expression with any one term enough (the fallback when requiring all finds
    /// nothing).
    pub fn fts5_match_any(&self, columns: Option<&[&str]>) -> String {
        self.fts5(columns, " OR ")
    }

    /// The `tsquery` literal with any one term enough.
    pub fn tsquery_literal_any(&self) -> String {
        self.tsquery(" | ")
    }

    fn fts5(&self, columns: Option<&[&str]>, joiner: &str) -> String {
        let body = self
            .terms
            .iter()
            .map(|t| {
                let quoted = format!("\"{}\"", t.text.replace('"', "\"\""));
                if t.prefix {
                    format!("{quoted}*")
                } else {
                    quoted
                }
            })
            .collect::<Vec<_>>()
            .join(joiner);
        match columns {
            Some(cols) if !cols.is_empty() => format!("{{{}}} : ({body})", cols.join(" ")),
            _ => body,
        }
    }

    fn tsquery(&self, joiner: &str) -> String {
        let mut out = String::new();
        for (i, t) in self.terms.iter().enumerate() {
            if i > 0 {
                out.push_str(joiner);
            }
            push_quoted(&mut out, &t.text);
            if t.prefix {
                out.push_str(":*");
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(terms: &[(&str, bool)]) -> SearchQuery {
        SearchQuery {
            terms: terms
                .iter()
                .map(|(t, p)| QueryTerm {
                    text: (*t).to_owned(),
                    prefix: *p,
                })
                .collect(),
        }
    }

    #[test]
    fn fts5_expression_quotes_terms() {
        let query = q(&[("路灯", false), ("a\"b", false), ("2026", true)]);
        assert_eq!(
            query.fts5_match(None),
            "\"路灯\" AND \"a\"\"b\" AND \"2026\"*"
        );
        assert_eq!(
            query.fts5_match(Some(&["title_terms", "body_terms"])),
            "{title_terms body_terms} : (\"路灯\" AND \"a\"\"b\" AND \"2026\"*)"
        );
        assert_eq!(
            query.fts5_match_any(None),
            "\"路灯\" OR \"a\"\"b\" OR \"2026\"*"
        );
    }

    #[test]
    fn tsquery_quotes_terms() {
        let query = q(&[("路灯", false), ("it's", false), ("2026", true)]);
        assert_eq!(query.tsquery_literal(), "'路灯' & 'it''s' & '2026':*");
        assert_eq!(query.tsquery_literal_any(), "'路灯' | 'it''s' | '2026':*");
    }

    #[test]
    fn tsvector_has_positions_and_weights() {
        let title = FieldTerms {
            terms: vec!["路灯".into(), "不亮".into()],
        };
        let body = FieldTerms {
            terms: vec!["a\\b".into()],
        };
        assert_eq!(
            tsvector_literal(&[(&title, FieldWeight::A), (&body, FieldWeight::D)]),
            "'路灯':1A '不亮':2A 'a\\\\b':3D"
        );
    }
}

//! Full-text search of orders: the search document the store writes next to each order (in the
//! same transaction, so an order is findable as soon as the request that saved it returns), and
//! the text filter of an order list. The words come from [`minhu_text`]; the SQL that stores and
//! matches them is in `shared/search.rs` and, where the backends differ, in `sqlite.rs` and
//! `postgres.rs`.

use minhu_domain::Order;
use minhu_text::{IndexTerms, SearchQuery};

/// The words of one order, as stored in `order_search`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderSearchDocument {
    /// Number and title.
    pub title_terms: String,
    /// Content, address and every reply.
    pub body_terms: String,
    /// The caller's name and enterprise (centre roles only search these).
    pub caller_terms: String,
    /// Title and content words without fillers, for repeat detection.
    pub similarity_words: String,
}

/// The search document of `order` whose replies (the order's answer and the assignments'
/// replies) are `replies`.
///
/// `segmenter` is the [`Segmenter`](minhu_text::Segmenter), or a [`TermMemo`](minhu_text::TermMemo) over it for a bulk
/// load: the document is the same.
pub fn order_document<'a>(
    segmenter: &impl IndexTerms,
    order: &'a Order,
    replies: impl IntoIterator<Item = &'a str>,
) -> OrderSearchDocument {
    // The title and the content are cut once each: their index terms also give the similarity
    // words, which used to cut both a second time. The terms are written out as they are cut,
    // without a string per word (a bulk load's memo keeps each clause's words written out).
    let mut similarity = String::new();
    let mut title_terms = String::new();
    segmenter.push_terms(&order.number, &mut title_terms, None);
    segmenter.push_terms(&order.title, &mut title_terms, Some(&mut similarity));
    let mut body_terms = String::new();
    segmenter.push_terms(&order.content, &mut body_terms, Some(&mut similarity));
    // The reviewed answer is usually also a unit's reply: index each text once.
    let mut body_texts: Vec<&str> = vec![order.location.address.as_str()];
    for text in order.reply.as_deref().into_iter().chain(replies) {
        if !text.is_empty() && text != order.content && !body_texts.contains(&text) {
            body_texts.push(text);
        }
    }
    for text in body_texts {
        segmenter.push_terms(text, &mut body_terms, None);
    }
    let mut caller_terms = String::new();
    for name in order
        .citizen
        .name
        .as_deref()
        .into_iter()
        .chain(order.citizen.enterprise_name.as_deref())
    {
        segmenter.push_terms(name, &mut caller_terms, None);
    }
    OrderSearchDocument {
        title_terms,
        body_terms,
        caller_terms,
        similarity_words: similarity,
    }
}

/// The text filter of an order list (`?q=`): every word of the query must occur; results are
/// ranked by relevance (title words weigh most).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextFilter {
    pub query: SearchQuery,
    /// Whether the caller's name is searched too (centre roles; never for units, who see it
    /// masked).
    pub include_caller: bool,
}

impl TextFilter {
    /// The FTS5 MATCH expression.
    pub fn fts5_match(&self) -> String {
        if self.include_caller {
            self.query.fts5_match(None)
        } else {
            self.query.fts5_match(Some(&["title_terms", "body_terms"]))
        }
    }

    /// The `tsquery` text for `to_tsquery('simple', …)`.
    pub fn tsquery(&self) -> String {
        self.query.tsquery_literal()
    }
}

/// A batch of a rebuild: how far it got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReindexProgress {
    /// Orders (re)indexed by this batch.
    pub indexed: u64,
    /// The highest order id of the batch (the next batch starts after it); `None` when done.
    pub last_id: Option<i64>,
}

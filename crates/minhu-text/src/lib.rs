//! minhu's Chinese text handling, pure Rust without I/O:
//!
//! - [`segment`]: word segmentation (jieba plus a 12345 domain dictionary), for the index and for
//!   queries;
//! - [`memo`]: the index terms of many similar texts (a bulk load's), each clause cut once;
//! - [`query`]: the search document and query in each database's language (SQLite FTS5,
//!   PostgreSQL `tsvector`/`tsquery`), built from the same terms;
//! - [`highlight`]: matched words marked in a text, and excerpts;
//! - [`similarity`]: weighted word similarity for repeat and similar orders.

pub mod highlight;
pub mod memo;
pub mod query;
pub mod segment;
pub mod similarity;

pub use highlight::{Piece, excerpt, highlight};
pub use memo::{IndexTerms, TermMemo, push_words};
pub use query::{FieldTerms, FieldWeight, SearchQuery, tsvector_literal};
pub use segment::{Segmenter, normalize, segmenter, warm_up};
pub use similarity::TextProfile;

//! Highlighting: the parts of a text that match a search's words, as plain pieces for a template
//! to escape and wrap (no HTML is built here), and a short excerpt around the first match.

use std::cell::RefCell;
use std::sync::Arc;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

/// A piece of highlighted text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    pub text: String,
    pub matched: bool,
}

/// Splits `text` into pieces, the occurrences of `words` marked (longest match first, ASCII
/// case-insensitive). Without words, or when the words can't be searched, the text is one piece.
pub fn highlight(text: &str, words: &[String]) -> Vec<Piece> {
    let Some(finder) = finder(words) else {
        return whole(text);
    };
    let mut pieces = Vec::new();
    let mut last = 0;
    for m in finder.find_iter(text) {
        if m.start() > last {
            pieces.push(Piece {
                text: text[last..m.start()].to_owned(),
                matched: false,
            });
        }
        pieces.push(Piece {
            text: text[m.start()..m.end()].to_owned(),
            matched: true,
        });
        last = m.end();
    }
    if last < text.len() || pieces.is_empty() {
        pieces.push(Piece {
            text: text[last..].to_owned(),
            matched: false,
        });
    }
    pieces
}

/// An excerpt of at most `max_chars` characters of `text` around the first match of `words`
/// (from the start when nothing matches), with `…` where it was cut, highlighted.
pub fn excerpt(text: &str, words: &[String], max_chars: usize) -> Vec<Piece> {
    let total = text.chars().count();
    if total <= max_chars {
        return highlight(text, words);
    }
    let first_match_char = finder(words)
        .and_then(|f| f.find(text))
        .map_or(0, |m| text[..m.start()].chars().count());
    // Keep a little context before the match.
    let start = first_match_char
        .saturating_sub(max_chars / 4)
        .min(total - max_chars);
    let end = start + max_chars;
    let mut cut: String = text.chars().skip(start).take(max_chars).collect();
    if start > 0 {
        cut.insert(0, '…');
    }
    if end < total {
        cut.push('…');
    }
    highlight(&cut, words)
}

thread_local! {
    /// The finder last built on this thread, with its words: a page highlights the same words in
    /// every title and excerpt it shows, one after the other on one thread, and building the
    /// finder was the larger part of highlighting (7 % of a knowledge search's time).
    static LAST_FINDER: RefCell<Option<(Vec<String>, Arc<AhoCorasick>)>> =
        const { RefCell::new(None) };
}

fn finder(words: &[String]) -> Option<Arc<AhoCorasick>> {
    let cached = LAST_FINDER.with(|last| {
        last.borrow()
            .as_ref()
            .filter(|(cached_words, _)| cached_words.as_slice() == words)
            .map(|(_, finder)| Arc::clone(finder))
    });
    if cached.is_some() {
        return cached;
    }
    let built = Arc::new(build_finder(words)?);
    LAST_FINDER.with(|last| *last.borrow_mut() = Some((words.to_vec(), Arc::clone(&built))));
    Some(built)
}

fn build_finder(words: &[String]) -> Option<AhoCorasick> {
    let words: Vec<&str> = words
        .iter()
        .map(String::as_str)
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() {
        return None;
    }
    // A page highlights a few words in a few dozen short texts, building a finder for each:
    // the DFA the builder picks by default for so few words took a tenth of a knowledge
    // search's time to build; an NFA builds in microseconds and is as fast on short texts.
    AhoCorasick::builder()
        .kind(Some(AhoCorasickKind::NoncontiguousNFA))
        .match_kind(MatchKind::LeftmostLongest)
        .ascii_case_insensitive(true)
        .build(words)
        .ok()
}

fn whole(text: &str) -> Vec<Piece> {
    vec![Piece {
        text: text.to_owned(),
        matched: false,
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marked(pieces: &[Piece]) -> String {
        pieces
            .iter()
            .map(|p| {
                if p.matched {
                    format!("[{}]", p.text)
                } else {
                    p.text.clone()
                }
            })
            .collect()
    }

    #[test]
    fn marks_every_occurrence_longest_first() {
        let words = vec!["路灯".to_owned(), "路灯不亮".to_owned(), "wifi".to_owned()];
        assert_eq!(
            marked(&highlight("幸福路路灯不亮，路灯杆歪了，WiFi", &words)),
            "幸福路[路灯不亮]，[路灯]杆歪了，[WiFi]"
        );
    }

    #[test]
    fn no_words_is_one_piece() {
        assert_eq!(highlight("abc", &[]), whole("abc"));
        assert_eq!(highlight("", &["x".to_owned()]), whole(""));
    }

    #[test]
    fn the_reused_finder_follows_the_words() {
        let marked = |words: &[&str]| -> Vec<String> {
            let words: Vec<String> = words.iter().map(|w| (*w).to_owned()).collect();
            highlight("路灯不亮，井盖缺失", &words)
                .into_iter()
                .filter(|p| p.matched)
                .map(|p| p.text)
                .collect()
        };
        assert_eq!(marked(&["路灯"]), ["路灯"]);
        assert_eq!(marked(&["路灯"]), ["路灯"]);
        assert_eq!(marked(&["井盖"]), ["井盖"]);
        assert_eq!(marked(&["井盖", "路灯"]), ["路灯", "井盖"]);
        assert!(marked(&[]).is_empty());
    }

    #[test]
    fn excerpt_centres_on_the_match() {
        let text = format!("{}井盖丢失{}", "前".repeat(50), "后".repeat(50));
        let pieces = excerpt(&text, &["井盖".to_owned()], 20);
        let shown = marked(&pieces);
        assert!(shown.starts_with('…') && shown.ends_with('…'), "{shown}");
        assert!(shown.contains("[井盖]"), "{shown}");
        assert_eq!(shown.chars().filter(|c| *c != '[' && *c != ']').count(), 22);
    }
}

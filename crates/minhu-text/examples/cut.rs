//! Prints the index and query terms of each argument: `cargo run -p minhu-text --example cut -- 文本`.
fn main() {
    let s = minhu_text::segmenter();
    for text in std::env::args().skip(1) {
        println!("index: {}", s.index_terms(&text).join(" | "));
        println!("query: {}", s.query_terms(&text).join(" | "));
        println!("words: {}", s.content_words(&text).join(" | "));
    }
}

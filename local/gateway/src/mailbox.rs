//! The mailbox: what the email subscribers of the topics received, read from the file the
//! emulator appends to (one JSON object per line).

use std::path::Path;

use anyhow::anyhow;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Letter {
    pub topic: String,
    #[serde(default)]
    pub to: String,
    pub subject: String,
    pub body: String,
    pub timestamp: String,
    #[serde(default, rename = "messageId")]
    pub message_id: String,
}

/// Every letter so far, oldest first. A missing file is an empty mailbox.
pub fn read(path: &Path) -> anyhow::Result<Vec<Letter>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(anyhow!("{}: {e}", path.display())),
    };
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).map_err(|e| anyhow!("{}: {e}", path.display())))
        .collect()
}

/// A page a person can read, newest letter first, links clickable.
pub fn html(letters: &[Letter]) -> String {
    let mut page = String::from(concat!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
        "<title>Café mailbox</title><style>",
        "body{margin:0;font:16px/1.5 system-ui,sans-serif;background:#fbf7f2;color:#2b1d14}",
        "header{background:#8a4b2a;color:#fff;padding:1rem}h1{margin:0;font-size:1.4rem}",
        "main{max-width:52rem;margin:0 auto;padding:1rem}",
        "article{background:#fff;border:1px solid #eadfd3;border-radius:.5rem;padding:1rem;margin:0 0 1rem}",
        "h2{margin:0;font-size:1.1rem}.meta{color:#7a6a5d;font-size:.85rem}",
        "pre{white-space:pre-wrap;overflow-wrap:anywhere;font:inherit}a{color:#8a4b2a}",
        "</style></head><body><header><h1>Café mailbox</h1></header><main>"
    ));
    if letters.is_empty() {
        page.push_str("<p>No email yet. Post an order or request a report.</p>");
    }
    for letter in letters.iter().rev() {
        page.push_str(&format!(
            "<article><h2>{}</h2><p class=\"meta\">To {} · topic {} · {}</p><pre>{}</pre></article>",
            escape(&letter.subject),
            escape(&letter.to),
            escape(&letter.topic),
            escape(&letter.timestamp),
            linkify(&letter.body),
        ));
    }
    page.push_str("</main></body></html>");
    page
}

/// Text made safe to put in HTML, as an element's content or a quoted attribute.
pub(crate) fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// Escapes the text and turns each http(s) URL into a link.
fn linkify(text: &str) -> String {
    text.split_inclusive(char::is_whitespace)
        .map(|piece| {
            let word = piece.trim_end();
            if word.starts_with("http://") || word.starts_with("https://") {
                let url = escape(word);
                format!("<a href=\"{url}\">{url}</a>{}", &piece[word.len()..])
            } else {
                escape(piece)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn letter(body: &str) -> Letter {
        Letter {
            topic: "EmailReport".into(),
            to: "manager@cafe.example".into(),
            subject: "Report <ready> & waiting".into(),
            body: body.into(),
            timestamp: "2026-11-21T10:00:00Z".into(),
            message_id: "m-1".into(),
        }
    }

    #[test]
    fn links_are_clickable_and_everything_else_is_text() {
        let page = html(&[letter(
            "Open it:\n\nhttp://127.0.0.1:4566/r.html?a=1&b=2\n\n<script>x</script>",
        )]);
        assert!(page.contains("<a href=\"http://127.0.0.1:4566/r.html?a=1&amp;b=2\">"));
        assert!(page.contains("&lt;script&gt;x&lt;/script&gt;"));
        assert!(page.contains("<h2>Report &lt;ready&gt; &amp; waiting</h2>"));
        assert!(!page.contains("<script>"));
    }

    #[test]
    fn the_newest_letter_comes_first() {
        let page = html(&[letter("first"), letter("second")]);
        assert!(page.find("second").unwrap() < page.find("first").unwrap());
        assert!(html(&[]).contains("No email yet"));
    }
}

//! The mailbox: what the email subscribers of the topics received, read from the file the
//! emulator appends to (one JSON object per line).

use std::path::Path;

use anyhow::anyhow;
use askama::Template;
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

/// The id of a letter on the mailbox page, so another page can link `/mailbox#<id>`: `letter-`
/// and the SNS message id, or, for a letter without a usable one, its place in the mailbox
/// after a dot, which no usable id has (`letter.3`; 1 for the oldest; the file is only ever
/// appended to, so the place does not change).
pub fn anchor(place: usize, letter: &Letter) -> String {
    let id = &letter.message_id;
    let usable = !id.is_empty()
        && id.len() <= 100
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if usable {
        format!("letter-{id}")
    } else {
        format!("letter.{place}")
    }
}

/// The mailbox page (`templates/mailbox.html`).
#[derive(Template)]
#[template(path = "mailbox.html", escape = "named")]
struct MailboxPage<'a> {
    /// Newest first.
    letters: Vec<LetterView<'a>>,
}

struct LetterView<'a> {
    /// Its [`anchor`].
    id: String,
    subject: &'a str,
    to: &'a str,
    topic: &'a str,
    timestamp: &'a str,
    body: Vec<Piece<'a>>,
}

/// A run of a letter's text: a URL shown as a link, or text.
struct Piece<'a> {
    text: &'a str,
    link: bool,
}

/// A page a person can read, newest letter first, links clickable.
pub fn html(letters: &[Letter]) -> String {
    let letters = letters
        .iter()
        .enumerate()
        .rev()
        .map(|(index, letter)| LetterView {
            id: anchor(index + 1, letter),
            subject: &letter.subject,
            to: &letter.to,
            topic: &letter.topic,
            timestamp: &letter.timestamp,
            body: pieces(&letter.body),
        })
        .collect();
    MailboxPage { letters }
        .render()
        .unwrap_or_else(|e| format!("the mailbox page could not be rendered: {e}"))
}

/// The text cut into pieces, each http(s) URL a piece of its own.
fn pieces(text: &str) -> Vec<Piece<'_>> {
    let mut pieces = Vec::new();
    for piece in text.split_inclusive(char::is_whitespace) {
        let word = piece.trim_end();
        if word.starts_with("http://") || word.starts_with("https://") {
            pieces.push(Piece {
                text: word,
                link: true,
            });
            pieces.push(Piece {
                text: &piece[word.len()..],
                link: false,
            });
        } else {
            pieces.push(Piece {
                text: piece,
                link: false,
            });
        }
    }
    pieces
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
    fn every_letter_has_an_id_to_link_to() {
        let mut odd = letter("second");
        odd.message_id = "a b\"><x".into();
        let page = html(&[letter("first"), odd]);
        assert!(page.contains("<article id=\"letter-m-1\">"), "{page}");
        assert!(page.contains("<article id=\"letter.2\">"), "{page}");
    }

    #[test]
    fn the_newest_letter_comes_first() {
        let page = html(&[letter("first"), letter("second")]);
        assert!(page.find("second").unwrap() < page.find("first").unwrap());
        assert!(html(&[]).contains("No email yet"));
    }
}

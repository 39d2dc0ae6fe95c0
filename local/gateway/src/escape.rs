//! How the gateway's pages escape what comes from data: the five characters HTML gives a meaning
//! to, as named entities (`&amp;`, `&lt;`, `&gt;`, `&quot;`, `&#39;`). askama's own HTML escaper
//! writes numeric ones (`&#38;`); these read better in a page's source and in its tests.
//! `askama.toml` names it `named`, and each page's template asks for it.

#[derive(Debug, Clone, Copy)]
pub struct NamedEntities;

impl askama::filters::Escaper for NamedEntities {
    fn write_escaped_str<W: std::fmt::Write>(&self, mut dest: W, text: &str) -> std::fmt::Result {
        let mut written = 0;
        for (at, c) in text.char_indices() {
            let entity = match c {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                '\'' => "&#39;",
                _ => continue,
            };
            dest.write_str(&text[written..at])?;
            dest.write_str(entity)?;
            written = at + c.len_utf8();
        }
        dest.write_str(&text[written..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use askama::filters::Escaper;

    #[test]
    fn the_five_characters_become_named_entities_and_the_rest_stays() {
        let mut out = String::new();
        NamedEntities
            .write_escaped_str(&mut out, "a&b<c>d\"e'f é ☕")
            .unwrap();
        assert_eq!(out, "a&amp;b&lt;c&gt;d&quot;e&#39;f é ☕");
    }
}

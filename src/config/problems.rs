//! Configuration problems: what is wrong, where (key path and line:column)
//! and what to do about it.
//!
//! Validation never stops at the first problem: every stage pushes into one
//! [`Problems`] list so that `preau check` can show the administrator all of
//! them at once.

use serde::Serialize;
use std::fmt;

/// A message in the two languages of the interface, declared once at the
/// place that finds the problem: English (what `preau check` and the rest
/// of the command line print) and French (what the console shows beside
/// the field). Built with [`msg!`](crate::msg).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Msg {
    pub en: String,
    pub fr: String,
}

impl Msg {
    pub fn new(en: impl Into<String>, fr: impl Into<String>) -> Msg {
        Msg {
            en: en.into(),
            fr: fr.into(),
        }
    }

    /// The text in French (`true`) or English.
    pub fn text(&self, french: bool) -> &str {
        if french { &self.fr } else { &self.en }
    }
}

/// English, the command line's language.
impl fmt::Display for Msg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.en)
    }
}

/// A [`Msg`] from an English and a French format string (same arguments
/// as `format!`: captured names, or `en(…)`/`fr(…)` with positional
/// arguments). The French text may not be empty (checked when compiling).
///
/// ```
/// let n = 3;
/// let m = preau::msg!("{n} is too many", "{n}, c'est trop");
/// assert_eq!(m.fr, "3, c'est trop");
/// let m = preau::msg!(en("{} is too many", n + 1), fr("{}, c'est trop", n + 1));
/// assert_eq!(m.en, "4 is too many");
/// ```
#[macro_export]
macro_rules! msg {
    ($en:literal, $fr:literal $(,)?) => {{
        const _: () = assert!(!$fr.is_empty(), "a message needs its French text");
        $crate::config::problems::Msg {
            en: format!($en),
            fr: format!($fr),
        }
    }};
    (en($en:literal $(, $ea:expr)* $(,)?), fr($fr:literal $(, $fa:expr)* $(,)?) $(,)?) => {{
        const _: () = assert!(!$fr.is_empty(), "a message needs its French text");
        $crate::config::problems::Msg {
            en: format!($en $(, $ea)*),
            fr: format!($fr $(, $fa)*),
        }
    }};
}

/// One problem found while reading or validating the configuration, before
/// it is given a position in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Dotted key path, e.g. `firewall.zones[1].interfaces`; empty for the
    /// whole file.
    pub path: String,
    /// What is wrong, in one sentence.
    pub message: Msg,
    /// What to do next, when there is something useful to say.
    pub hint: Option<Msg>,
    /// Point at the key itself rather than its value (unknown keys).
    pub at_key: bool,
}

/// The problems collected by one validation pass.
#[derive(Debug, Default)]
pub struct Problems {
    items: Vec<Problem>,
}

impl Problems {
    /// Records a problem with the value at `path`.
    pub fn push(&mut self, path: impl Into<String>, message: Msg) {
        self.items.push(Problem {
            path: path.into(),
            message,
            hint: None,
            at_key: false,
        });
    }

    /// Records a problem with a hint on how to fix it.
    pub fn push_hint(&mut self, path: impl Into<String>, message: Msg, hint: Msg) {
        self.items.push(Problem {
            path: path.into(),
            message,
            hint: Some(hint),
            at_key: false,
        });
    }

    pub(crate) fn push_problem(&mut self, problem: Problem) {
        self.items.push(problem);
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn into_vec(self) -> Vec<Problem> {
        self.items
    }

    pub fn iter(&self) -> impl Iterator<Item = &Problem> {
        self.items.iter()
    }
}

/// Joins a key path and a field name: `join("a.b", "c") == "a.b.c"`.
pub fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Joins a key path and an array index: `index("a.b", 2) == "a.b[2]"`.
pub fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

/// A problem placed in the configuration file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub path: String,
    /// In English, as `preau check` prints it (and `--json` emits it).
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// The same in French, for the console.
    #[serde(skip)]
    pub message_fr: String,
    #[serde(skip)]
    pub hint_fr: Option<String>,
}

impl ConfigError {
    /// The message and the hint in French (`true`) or English.
    pub fn text(&self, french: bool) -> (&str, Option<&str>) {
        if french {
            (&self.message_fr, self.hint_fr.as_deref())
        } else {
            (&self.message, self.hint.as_deref())
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        write!(f, "{}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n    help: {hint}")?;
        }
        Ok(())
    }
}

/// Every problem of one configuration file, sorted by position.
#[derive(Debug, Clone)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// Line and column (both from 1, column counted in characters) of a byte
/// offset in `text`.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..floor_char_boundary(text, offset)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_column_counts_characters_not_bytes() {
        let text = "a = 1\nnom = \"Préau\" x";
        let offset = text.find('x').unwrap();
        assert_eq!(line_column(text, offset), (2, 15));
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 10_000), (2, 16));
    }

    /// Every `msg!` of the sources has a French text, and it is not a
    /// copy of the English one (but for texts that are the same in both
    /// languages: units, placeholders).
    #[test]
    fn every_message_of_the_sources_has_its_french() {
        /// The string literal at the start of `s` (after blanks), unescaped
        /// enough to compare, and what follows it.
        fn literal(s: &str) -> Option<(String, &str)> {
            let s = s.trim_start();
            let rest = s.strip_prefix('"')?;
            let mut out = String::new();
            let mut chars = rest.char_indices();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, n)) = chars.next() {
                            out.push(n);
                        }
                    }
                    '"' => return Some((out, &rest[i + 1..])),
                    c => out.push(c),
                }
            }
            None
        }
        const SAME_IN_BOTH: &[&str] = &["{h} h {m} min"];
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut todo = vec![root];
        let (mut seen, mut bad) = (0, Vec::new());
        while let Some(dir) = todo.pop() {
            for e in std::fs::read_dir(&dir).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    todo.push(p);
                    continue;
                }
                if p.extension().is_none_or(|x| x != "rs") {
                    continue;
                }
                let text = std::fs::read_to_string(&p).unwrap();
                for (i, _) in text.match_indices("msg!(") {
                    let after = &text[i + 5..];
                    let after = after.trim_start();
                    let (en, fr) = if let Some(r) = after.strip_prefix("en(") {
                        let Some((en, rest)) = literal(r) else { continue };
                        let Some(at) = rest.find("fr(") else { continue };
                        let Some((fr, _)) = literal(&rest[at + 3..]) else {
                            continue;
                        };
                        (en, fr)
                    } else {
                        let Some((en, rest)) = literal(after) else {
                            continue;
                        };
                        let Some(rest) = rest.trim_start().strip_prefix(',') else {
                            continue;
                        };
                        let Some((fr, _)) = literal(rest) else { continue };
                        (en, fr)
                    };
                    seen += 1;
                    if fr.trim().is_empty() || (fr == en && !SAME_IN_BOTH.contains(&en.as_str())) {
                        bad.push(format!("{}: {en:?} / {fr:?}", p.display()));
                    }
                }
            }
        }
        assert!(seen > 200, "the scan finds the messages ({seen})");
        assert!(
            bad.is_empty(),
            "messages without their own French:\n{}",
            bad.join("\n")
        );
    }

    #[test]
    fn paths_join() {
        assert_eq!(join("", "a"), "a");
        assert_eq!(join("a", "b"), "a.b");
        assert_eq!(index("a.b", 3), "a.b[3]");
    }
}

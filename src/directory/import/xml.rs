//! Streaming XML reading for the national exports.
//!
//! The bytes are decoded to UTF-8 from the encoding the XML declaration
//! names (ISO-8859-15, ISO-8859-1, UTF-8…) by `encoding_rs_io`, then parsed
//! by quick-xml event by event: memory holds one record (one `ELEVE`, one
//! `INDIVIDU`…) at a time, whatever the file size. Character references
//! (`&#7877;`) are resolved. Lines are counted from the events so that
//! every error names the file, line and element.

use super::ImportError;
use quick_xml::events::Event;
use std::io::{BufReader, Read};

/// One element inside a record, in document order.
#[derive(Debug, Clone, Default)]
pub struct Node {
    /// Path relative to the record, e.g. `SERVICES/SERVICE`.
    pub path: String,
    pub attrs: Vec<(String, String)>,
    pub text: String,
    pub line: usize,
}

impl Node {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A record element (e.g. `ELEVE`) with its attributes and everything
/// inside it.
#[derive(Debug, Clone, Default)]
pub struct Record {
    /// Absolute path, e.g. `BEE_ELEVES/DONNEES/ELEVES/ELEVE`.
    pub path: String,
    pub name: String,
    pub line: usize,
    pub attrs: Vec<(String, String)>,
    pub nodes: Vec<Node>,
    /// Text directly inside the record element.
    pub text: String,
}

impl Record {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Trimmed text of the first child at `path`, None if absent or empty.
    pub fn get(&self, path: &str) -> Option<&str> {
        self.nodes
            .iter()
            .find(|n| n.path == path)
            .map(|n| n.text.trim())
            .filter(|t| !t.is_empty())
    }

    pub fn line_of(&self, path: &str) -> usize {
        self.nodes
            .iter()
            .find(|n| n.path == path)
            .map_or(self.line, |n| n.line)
    }
}

/// The encoding named by the XML declaration at the start of `head`
/// (UTF-8 when there is none, as XML says).
pub fn declared_encoding(head: &[u8]) -> Result<&'static encoding_rs::Encoding, String> {
    // Skip a UTF-8 BOM.
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    if !head.starts_with(b"<?xml") {
        return Ok(encoding_rs::UTF_8);
    }
    let end = head.windows(2).position(|w| w == b"?>").unwrap_or(head.len());
    let decl = String::from_utf8_lossy(&head[..end]);
    let Some(at) = decl.find("encoding") else {
        return Ok(encoding_rs::UTF_8);
    };
    let rest = decl[at + "encoding".len()..]
        .trim_start()
        .trim_start_matches('=')
        .trim_start();
    let quote = rest.chars().next().unwrap_or('"');
    let label: String = rest[quote.len_utf8().min(rest.len())..]
        .chars()
        .take_while(|c| *c != quote)
        .collect();
    encoding_rs::Encoding::for_label(label.trim().as_bytes())
        .ok_or_else(|| format!("the XML declaration names an unknown encoding \"{label}\""))
}

/// Reads `input` (named `file` in errors) and calls `on_record` for every
/// element whose absolute path is in `records`. Returns the root element's
/// name and line.
pub fn stream(
    file: &str,
    mut input: impl Read,
    records: &[&str],
    mut on_record: impl FnMut(Record) -> Result<(), ImportError>,
) -> Result<(String, usize), ImportError> {
    // Read the head to find the declared encoding, then chain it back.
    let mut head = vec![0u8; 512];
    let mut filled = 0;
    while filled < head.len() {
        let n = input
            .read(&mut head[filled..])
            .map_err(|e| ImportError::new(file, 0, "", format!("cannot read: {e}")))?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    head.truncate(filled);
    if filled == 0 {
        return Err(
            ImportError::new(file, 1, "", "the file is empty").hint("export it again from SIECLE or STS-web")
        );
    }
    let encoding = declared_encoding(&head).map_err(|m| {
        ImportError::new(file, 1, "?xml", m)
            .hint("use ISO-8859-15, ISO-8859-1 or UTF-8, as the national exports do")
    })?;
    let single_byte = encoding != encoding_rs::UTF_8;
    let decoded = encoding_rs_io::DecodeReaderBytesBuilder::new()
        .encoding(Some(encoding))
        .build(std::io::Cursor::new(head).chain(input));
    let mut reader = quick_xml::Reader::from_reader(BufReader::with_capacity(64 * 1024, decoded));
    reader.config_mut().check_end_names = true;
    reader.config_mut().expand_empty_elements = true;

    let mut line = 1usize;
    let mut stack: Vec<String> = Vec::new();
    let mut path = String::new();
    let mut root = String::new();
    let mut root_line = 0usize;
    // The record being filled: the record, its depth, and the index of the
    // node each open element inside it fills (None for the record itself).
    let mut current: Option<(Record, usize, Vec<Option<usize>>)> = None;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let event = match reader.read_event_into(&mut buf) {
            Ok(e) => e,
            Err(e) => {
                let element = stack.last().cloned().unwrap_or_default();
                return Err(ImportError::new(file, line, &element, format!("malformed XML: {e}")).hint(
                    "the file is damaged or truncated: export it again (and do not open and save it in a spreadsheet)",
                ));
            }
        };
        let start_line = line;
        line += event.bytes().filter(|b| *b == b'\n').count();
        match event {
            Event::Start(e) => {
                let name = e.name().as_ref().to_string();
                if stack.is_empty() {
                    root = name.clone();
                    root_line = start_line;
                }
                if !path.is_empty() {
                    path.push('/');
                }
                path.push_str(&name);
                stack.push(name.clone());
                let mut attrs = Vec::new();
                for a in e.attributes() {
                    let a = a.map_err(|err| {
                        ImportError::new(file, start_line, &name, format!("malformed attribute: {err}"))
                    })?;
                    let value = a
                        .normalized_value(quick_xml::XmlVersion::Explicit1_0)
                        .map_err(|err| {
                            ImportError::new(file, start_line, &name, format!("bad attribute value: {err}"))
                        })?;
                    check_text(file, start_line, &name, &value, single_byte, encoding)?;
                    attrs.push((a.key.as_ref().to_string(), value.into_owned()));
                }
                match &mut current {
                    Some((rec, depth, open)) => {
                        let rel = path.splitn(*depth + 1, '/').nth(*depth).unwrap_or("").to_string();
                        rec.nodes.push(Node {
                            path: rel,
                            attrs,
                            text: String::new(),
                            line: start_line,
                        });
                        open.push(Some(rec.nodes.len() - 1));
                    }
                    None => {
                        if records.contains(&path.as_str()) {
                            current = Some((
                                Record {
                                    path: path.clone(),
                                    name: name.clone(),
                                    line: start_line,
                                    attrs,
                                    nodes: Vec::new(),
                                    text: String::new(),
                                },
                                stack.len(),
                                vec![None],
                            ));
                        }
                    }
                }
            }
            Event::End(_) => {
                stack.pop();
                path.truncate(path.rfind('/').unwrap_or(0));
                if let Some((_, _, open)) = &mut current {
                    open.pop();
                    if open.is_empty() {
                        let (rec, _, _) = current.take().expect("current record");
                        on_record(rec)?;
                    }
                }
            }
            Event::Text(t) => {
                if let Some((rec, _, open)) = &mut current {
                    let text = t.xml10_content();
                    let element = stack.last().map(String::as_str).unwrap_or("");
                    check_text(file, start_line, element, &text, single_byte, encoding)?;
                    push_text(rec, open, &text);
                }
            }
            Event::CData(t) => {
                if let Some((rec, _, open)) = &mut current {
                    push_text(rec, open, &t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                if let Some((rec, _, open)) = &mut current {
                    let element = stack.last().cloned().unwrap_or_default();
                    let ch = match r.resolve_char_ref() {
                        Ok(Some(c)) => c.to_string(),
                        Ok(None) => match &*r {
                            "amp" => "&".into(),
                            "lt" => "<".into(),
                            "gt" => ">".into(),
                            "quot" => "\"".into(),
                            "apos" => "'".into(),
                            other => {
                                return Err(ImportError::new(
                                    file,
                                    start_line,
                                    &element,
                                    format!("unknown entity &{other};"),
                                ));
                            }
                        },
                        Err(e) => {
                            return Err(ImportError::new(
                                file,
                                start_line,
                                &element,
                                format!("bad character reference &{};: {e}", &*r),
                            ));
                        }
                    };
                    push_text(rec, open, &ch);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if let Some(open) = stack.last() {
        return Err(ImportError::new(
            file,
            line,
            open,
            format!("the file ends inside <{open}>: it is truncated"),
        )
        .hint("download or export the file again; a truncated file changes nothing"));
    }
    if root.is_empty() {
        return Err(ImportError::new(file, line, "", "no XML element in the file"));
    }
    Ok((root, root_line))
}

fn push_text(rec: &mut Record, open: &[Option<usize>], text: &str) {
    match open.last() {
        Some(Some(i)) => rec.nodes[*i].text.push_str(text),
        Some(None) => rec.text.push_str(text),
        None => {}
    }
}

/// Catches a wrong encoding declaration: U+FFFD means bytes invalid in the
/// declared encoding; "Ã©"-style pairs mean UTF-8 read as Latin-1/-9.
fn check_text(
    file: &str,
    line: usize,
    element: &str,
    text: &str,
    single_byte: bool,
    encoding: &'static encoding_rs::Encoding,
) -> Result<(), ImportError> {
    let bad = text.contains('\u{FFFD}')
        || (single_byte && {
            let mut chars = text.chars().peekable();
            let mut found = false;
            while let Some(c) = chars.next() {
                if (c == 'Ã' || c == 'Å' || c == 'Â')
                    && chars
                        .peek()
                        .is_some_and(|n| ('\u{80}'..='\u{BF}').contains(n) || "€ŠšŽžŒœŸ".contains(*n))
                {
                    found = true;
                    break;
                }
            }
            found
        });
    if bad {
        return Err(ImportError::new(
            file,
            line,
            element,
            format!(
                "the text \"{}\" is not valid {}: the file's encoding declaration is wrong",
                text.trim(),
                encoding.name()
            ),
        )
        .hint("export the file again; if it was edited, save it in the encoding its first line declares"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(xml: &[u8]) -> Result<Vec<Record>, ImportError> {
        let mut out = Vec::new();
        stream("t.xml", xml, &["R/A"], |r| {
            out.push(r);
            Ok(())
        })?;
        Ok(out)
    }

    #[test]
    fn latin9_and_char_refs() {
        let mut xml = b"<?xml version=\"1.0\" encoding=\"ISO-8859-15\"?>\n<R>\n <A ID=\"1\"><N>B".to_vec();
        xml.push(0xBD); // oe in Latin-9
        xml.extend_from_slice(b"uf Nguy&#7877;n &amp; fils</N>\n<S><C>6A</C></S></A>\n</R>\n");
        let r = records(&xml).unwrap();
        assert_eq!(r[0].get("N"), Some("Bœuf Nguyễn & fils"));
        assert_eq!(r[0].get("S/C"), Some("6A"));
        assert_eq!(r[0].attr("ID"), Some("1"));
        assert_eq!(r[0].line, 3);
        assert_eq!(r[0].line_of("S/C"), 4);
    }

    #[test]
    fn truncated_and_wrong_encoding() {
        let e = records(b"<?xml version=\"1.0\"?>\n<R>\n<A><N>x</N></A>\n<A><N>y").unwrap_err();
        assert_eq!((e.line, e.element.as_str()), (4, "N"), "{e}");
        assert!(e.to_string().contains("truncated"), "{e}");
        let mut latin = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<R>\n<A><N>L".to_vec();
        latin.push(0xE9);
        latin.extend_from_slice(b"a</N></A></R>");
        let e = records(&latin).unwrap_err();
        assert_eq!((e.line, e.element.as_str()), (3, "N"), "{e}");
        let utf8_as_latin = "<?xml version=\"1.0\" encoding=\"ISO-8859-15\"?>\n<R><A><N>Léa</N></A></R>";
        let e = records(utf8_as_latin.as_bytes()).unwrap_err();
        assert!(e.to_string().contains("encoding declaration is wrong"), "{e}");
        let e = records(b"<?xml version=\"1.0\" encoding=\"EBCDIC-XX\"?><R/>").unwrap_err();
        assert!(e.to_string().contains("unknown encoding"), "{e}");
    }
}

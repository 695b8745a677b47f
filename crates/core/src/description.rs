//! What a launch description wrote: which properties it set on which element, read with the
//! token rules of GStreamer's own launch lexer (`gst/parse/parse.l`), so gstpipe's defaults
//! can fill only what the user left unsaid.

/// One element of a launch description, in description order, with the properties written
/// on it (`appsink max-buffers=1 drop=true` gives `appsink` and `["max-buffers", "drop"]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Written {
    /// The factory name, e.g. `appsink`.
    pub factory: String,
    /// The value of its `name=` property, when it has one.
    pub name: Option<String>,
    /// The property names written on it (child-proxy names like `sink::sync` as written).
    pub properties: Vec<String>,
}

/// The elements a launch description creates by factory name and the properties it writes on
/// them. URIs (which pick a factory at run time), caps, name references and bins' own
/// properties are not elements of this list.
pub(crate) fn written(description: &str) -> Vec<Written> {
    let mut out: Vec<Written> = Vec::new();
    // Whether the next assignment belongs to the last element (false after `!`, `(` or a
    // reference: GStreamer then assigns to a bin or rejects it).
    let mut current = false;
    let mut chars = description.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        if matches!(c, '!' | '(' | ')' | ',' | ';' | '{' | '}') {
            chars.next();
            current = false;
            continue;
        }
        if c == '"' || c == '\'' {
            // Quoted caps (`"video/x-raw, format=RGB"`): skip the string.
            skip_quoted(&mut chars);
            current = false;
            continue;
        }
        // A token: everything up to white space, a link or a bin bracket, quotes kept whole.
        let end = token_end(description, start);
        let token = &description[start..end];
        while chars.peek().is_some_and(|&(i, _)| i < end) {
            chars.next();
        }
        if is_caps(token) {
            // Caps run to the next link, spaces included.
            while let Some(&(_, c)) = chars.peek() {
                if c == '!' {
                    break;
                }
                if c == '"' || c == '\'' {
                    skip_quoted(&mut chars);
                } else {
                    chars.next();
                }
            }
            current = false;
            continue;
        }
        // `prop = value` with spaces around `=` is one assignment in GStreamer's lexer.
        let (token, assignment) = match token.find('=') {
            Some(at) => (&token[..at], Some(())),
            None => {
                let mut look = chars.clone();
                while look.peek().is_some_and(|&(_, c)| c.is_whitespace()) {
                    look.next();
                }
                if look.peek().is_some_and(|&(_, c)| c == '=') && is_identifier(token) {
                    look.next();
                    while look.peek().is_some_and(|&(_, c)| c.is_whitespace()) {
                        look.next();
                    }
                    chars = look;
                    // The value: a quoted string or a run of non-space characters.
                    if let Some(&(vstart, c)) = chars.peek() {
                        if c == '"' || c == '\'' {
                            skip_quoted(&mut chars);
                        } else {
                            let vend = token_end(description, vstart);
                            while chars.peek().is_some_and(|&(i, _)| i < vend) {
                                chars.next();
                            }
                        }
                    }
                    (token, Some(()))
                } else {
                    (token, None)
                }
            }
        };
        if assignment.is_some() {
            let name = token.trim();
            if current && let Some(element) = out.last_mut() {
                if name == "name" {
                    let value = assignment_value(description, start);
                    element.name = Some(value);
                } else {
                    element.properties.push(name.to_string());
                }
            }
            continue;
        }
        if token.contains("://") || token.contains('.') || token.starts_with('@') {
            // A URI, a name reference (`t.`, `t.src_0`) or a preset: no factory by name.
            current = token.starts_with('@') && current;
            continue;
        }
        if is_identifier(token) {
            out.push(Written {
                factory: token.to_string(),
                name: None,
                properties: Vec::new(),
            });
            current = true;
        } else {
            current = false;
        }
    }
    out
}

/// `[[:alnum:]_][[:alnum:]\-_%:]*`, GStreamer's identifier.
fn is_identifier(token: &str) -> bool {
    let mut chars = token.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || "-_%:".contains(c))
}

/// `[[:alnum:]-]+/[[:alnum:]-]+` at the start of a token: a media type, so caps.
fn is_caps(token: &str) -> bool {
    let head = token.split([',', ' ']).next().unwrap_or("");
    match head.split_once('/') {
        Some((media, sub)) => {
            let ok =
                |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
            ok(media) && ok(sub) && !head.contains('=')
        }
        None => false,
    }
}

/// Where the token starting at `start` ends: white space, `!`, `(` or `)` outside quotes.
fn token_end(text: &str, start: usize) -> usize {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in text[start..].char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match (quote, c) {
            (_, '\\') => escaped = true,
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, c) if c.is_whitespace() || matches!(c, '!' | '(' | ')') => {
                return start + i;
            }
            _ => {}
        }
    }
    text.len()
}

/// Consumes a quoted string (with `\` escapes) from `chars`.
fn skip_quoted(chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>) {
    let Some((_, quote)) = chars.next() else {
        return;
    };
    let mut escaped = false;
    for (_, c) in chars.by_ref() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == quote {
            break;
        }
    }
}

/// The value of the assignment starting at byte `start`, unquoted.
fn assignment_value(text: &str, start: usize) -> String {
    let rest = &text[start..];
    let Some(eq) = rest.find('=') else {
        return String::new();
    };
    let value = rest[eq + 1..].trim_start();
    let value_start = text.len() - value.len();
    let raw = &text[value_start..token_end(text, value_start)];
    raw.trim_matches(|c| c == '"' || c == '\'')
        .replace('\\', "")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(factory: &str, name: Option<&str>, properties: &[&str]) -> Written {
        Written {
            factory: factory.into(),
            name: name.map(Into::into),
            properties: properties.iter().map(|p| p.to_string()).collect(),
        }
    }

    #[test]
    fn reads_elements_and_their_properties() {
        assert_eq!(
            written(
                "videotestsrc num-buffers=10 ! video/x-raw,format=RGB,width=5 ! appsink max-buffers=1 drop=true"
            ),
            [
                w("videotestsrc", None, &["num-buffers"]),
                w("appsink", None, &["max-buffers", "drop"]),
            ]
        );
        assert_eq!(
            written(
                "appsrc name=src ! videoconvert ! appsink name = out sync = true caps=\"video/x-raw, format=(string)RGB\""
            ),
            [
                w("appsrc", Some("src"), &[]),
                w("videoconvert", None, &[]),
                w("appsink", Some("out"), &["sync", "caps"]),
            ]
        );
    }

    #[test]
    fn values_and_caps_are_not_elements() {
        assert_eq!(
            written("filesrc location=a.mp4 ! decodebin ! video/x-raw, format=RGB ! appsink"),
            [
                w("filesrc", None, &["location"]),
                w("decodebin", None, &[]),
                w("appsink", None, &[]),
            ]
        );
        assert_eq!(
            written(
                "videotestsrc pattern=0.5 ! tee name=t t. ! queue ! appsink wait-on-eos=false t. ! fakesink"
            ),
            [
                w("videotestsrc", None, &["pattern"]),
                w("tee", Some("t"), &[]),
                w("queue", None, &[]),
                w("appsink", None, &["wait-on-eos"]),
                w("fakesink", None, &[]),
            ]
        );
        assert_eq!(
            written("( videotestsrc ! appsink emit-signals=True )"),
            [
                w("videotestsrc", None, &[]),
                w("appsink", None, &["emit-signals"])
            ]
        );
        assert_eq!(
            written("uridecodebin uri=file:///x.mp4 ! appsink location=\"a b ! c\""),
            [
                w("uridecodebin", None, &["uri"]),
                w("appsink", None, &["location"])
            ]
        );
        assert_eq!(
            written("file:///x.mp4 ! appsink"),
            [w("appsink", None, &[])]
        );
    }

    #[test]
    fn assignments_after_links_belong_to_no_element() {
        assert_eq!(
            written("message-forward=true fakesrc ! fakesink"),
            [w("fakesrc", None, &[]), w("fakesink", None, &[])]
        );
    }
}

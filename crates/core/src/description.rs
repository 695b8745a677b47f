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
/// them, read from the tokens of [`crate::lexer::tokens`] (GStreamer's own lexer rules,
/// checked against it). URIs (which pick a factory at run time), caps, name references and
/// bins' own properties are not elements of this list.
pub(crate) fn written(description: &str) -> Vec<Written> {
    use crate::lexer::{Kind, tokens};
    let mut out: Vec<Written> = Vec::new();
    // Whether an assignment now belongs to the last element: after its identifier and its
    // other assignments or preset, not after a link, a bracket or a reference (GStreamer then
    // gives it to a bin or rejects it).
    let mut current = false;
    for token in tokens(description.as_bytes()) {
        // The lexer works on bytes: a token inside a multi-byte character is no element.
        let Some(text) = description.get(token.range.clone()) else {
            current = false;
            continue;
        };
        match token.kind {
            Kind::Identifier => {
                out.push(Written {
                    factory: text.to_string(),
                    name: None,
                    properties: Vec::new(),
                });
                current = true;
            }
            Kind::Assignment if current => {
                let Some((name, value)) = text.split_once('=') else {
                    continue;
                };
                let Some(element) = out.last_mut() else {
                    continue;
                };
                let name = name.trim();
                if name == "name" {
                    element.name = Some(unquote(value.trim()));
                } else {
                    element.properties.push(name.to_string());
                }
            }
            Kind::Preset => {}
            _ => current = false,
        }
    }
    out
}

/// A value as GStreamer reads it: outer quotes gone, backslash escapes resolved.
fn unquote(value: &str) -> String {
    let inner = match value.as_bytes() {
        [q @ (b'"' | b'\''), .., last] if last == q && value.len() >= 2 => {
            &value[1..value.len() - 1]
        }
        _ => value,
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
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
    fn non_ascii_text_is_read_without_splitting_characters() {
        assert_eq!(
            written("videotestsrc → appsink name=\"é\" caps=\"video/x-raw,a=→\""),
            [
                w("videotestsrc", None, &[]),
                w("appsink", Some("é"), &["caps"])
            ]
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

//! Secrets out of what is echoed: the password of any URL (`rtsp://admin:***@camera`) and the
//! value of password-like properties (`user-pw=***`), in any text: a launch description, an
//! error message, a log line.
//!
//! ```
//! use gstpipe_core::{echo, redact};
//!
//! let description = "rtspsrc location=rtsp://admin:hunter2@10.0.0.7/stream user-pw=\"s3 cr3t\" ! fakesink";
//! assert_eq!(
//!     redact(description),
//!     "rtspsrc location=rtsp://admin:***@10.0.0.7/stream user-pw=\"***\" ! fakesink"
//! );
//! // For messages: redacted, and a long description cut to its start and its size.
//! let long = format!("videotestsrc ! {}fakesink", "queue ! ".repeat(5_000));
//! assert!(echo(&long).ends_with("… (40023 bytes)"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::borrow::Cow;
use std::ops::Range;

/// What a secret is replaced with.
pub const MASK: &str = "***";

/// How many characters of a description [`echo`] keeps.
pub const ECHO_CHARS: usize = 200;

/// Words that make a property name a secret's (`user-pw`, `proxy-pw`, `passphrase`,
/// `secret-access-key`, `auth_token`), compared with each `-`/`_`-separated part of the name.
/// Not `pass`: x264enc's `pass=qual` is no secret.
const SECRET_WORDS: &[&str] = &[
    "pw",
    "pwd",
    "passwd",
    "password",
    "passphrase",
    "secret",
    "token",
];

/// `text` with every secret replaced by [`MASK`]:
///
/// - the password of any URL with credentials, whatever its scheme (even a malformed one) (`x://user:pass@host`
///   becomes `x://user:***@host`; the user is kept; a password holding `@` or `:` is masked
///   whole, up to the last `@` of the authority);
/// - the value of a property whose name says it is a secret (`user-pw=secret`,
///   `proxy-pw="a b"`, `passphrase=(string)x`, `?password=x&...`): the value, quoted or not,
///   becomes `***` (the quotes and a `(type)` are kept).
///
/// Borrowed when there is nothing to mask. Works on any text, so it can be applied to a whole
/// error message or log line as well as to a description (also when quotes in it are escaped
/// as `\"`, as in a `Debug`-formatted string).
pub fn redact(text: &str) -> Cow<'_, str> {
    let mut secrets = url_passwords(text);
    secrets.extend(secret_properties(text));
    if secrets.is_empty() {
        return Cow::Borrowed(text);
    }
    secrets.sort_by_key(|r| (r.start, r.end));
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for secret in secrets {
        if secret.end <= at {
            continue; // inside one already masked
        }
        let start = secret.start.max(at);
        out.push_str(&text[at..start]);
        if start == secret.start {
            out.push_str(MASK);
        }
        at = secret.end;
    }
    out.push_str(&text[at..]);
    Cow::Owned(out)
}

/// A description as messages show it: [`redact`]ed, and when longer than [`ECHO_CHARS`]
/// characters, its first [`ECHO_CHARS`] characters then `… (N bytes)` (`N` the whole
/// description's length), so an error on a 40 KB description stays readable.
pub fn echo(description: &str) -> String {
    let redacted = redact(description);
    match redacted.char_indices().nth(ECHO_CHARS) {
        None => redacted.into_owned(),
        Some((cut, _)) => format!("{}… ({} bytes)", &redacted[..cut], description.len()),
    }
}

/// Bytes that end a URL's authority: whitespace, quotes, the start of its path, query or
/// fragment, and brackets around a URL in prose.
fn ends_authority(b: u8) -> bool {
    b.is_ascii_whitespace() || matches!(b, b'/' | b'?' | b'#' | b'"' | b'\'' | b'<' | b'>' | b'`')
}

/// The byte ranges of the passwords in `scheme://user:password@host`.
fn url_passwords(text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(found) = text[from..].find("://") {
        let sep = from + found;
        from = sep + 3;
        // Whatever the scheme (even none, or one GStreamer would refuse): masking more is
        // the safe side.
        let start = sep + 3;
        let end = bytes[start..]
            .iter()
            .position(|&b| ends_authority(b))
            .map_or(bytes.len(), |i| start + i);
        let authority = &text[start..end];
        let Some(at) = authority.rfind('@') else {
            continue;
        };
        let Some(colon) = authority[..at].find(':') else {
            continue; // a user without password
        };
        if colon + 1 < at {
            out.push(start + colon + 1..start + at);
        }
    }
    out
}

/// Whether a property name (or the last `::` part of a child-proxy name) names a secret.
fn is_secret_name(name: &str) -> bool {
    let name = name
        .rsplit("::")
        .next()
        .unwrap_or(name)
        .to_ascii_lowercase();
    name.split(['-', '_'])
        .any(|part| SECRET_WORDS.contains(&part))
}

/// The byte ranges of the values of secret properties (`user-pw=value`).
fn secret_properties(text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    for (eq, _) in text.match_indices('=') {
        // The name before `=` (spaces allowed around `=`, as in gst-launch).
        let name_end = bytes[..eq]
            .iter()
            .rposition(|&b| b != b' ')
            .map_or(0, |i| i + 1);
        let name_start = bytes[..name_end]
            .iter()
            .rposition(|&b| !(b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':')))
            .map_or(0, |i| i + 1);
        if name_start == name_end || !is_secret_name(&text[name_start..name_end]) {
            continue;
        }
        if let Some(value) = value_at(bytes, eq + 1) {
            out.push(value);
        }
    }
    out
}

/// The value starting at (or after spaces from) `at`: after an optional `(type)`, a quoted
/// string (`"..."`, `'...'`, or `\"...\"` when escaped) without its quotes, or a bare word up
/// to whitespace, a quote, a backslash or one of `,;!&`. `None` when empty.
fn value_at(bytes: &[u8], mut at: usize) -> Option<Range<usize>> {
    while bytes.get(at) == Some(&b' ') {
        at += 1;
    }
    if bytes.get(at) == Some(&b'(')
        && let Some(close) = bytes[at..].iter().position(|&b| b == b')')
    {
        at += close + 1;
    }
    let rest = &bytes[at..];
    let (start, end) = if rest.starts_with(b"\\\"") {
        let start = at + 2;
        let end = find(&bytes[start..], b"\\\"").map_or(bytes.len(), |i| start + i);
        (start, end)
    } else if let Some(&quote @ (b'"' | b'\'')) = rest.first() {
        let start = at + 1;
        let end = bytes[start..]
            .iter()
            .position(|&b| b == quote)
            .map_or(bytes.len(), |i| start + i);
        (start, end)
    } else {
        let end = rest
            .iter()
            .position(|&b| {
                b.is_ascii_whitespace()
                    || matches!(b, b'"' | b'\'' | b'\\' | b',' | b';' | b'!' | b'&')
            })
            .map_or(bytes.len(), |i| at + i);
        (at, end)
    };
    (start < end).then_some(start..end)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn url_passwords_are_masked_user_kept() {
        for (text, expected) in [
            (
                "rtsp://admin:hunter2@10.0.0.7:554/s",
                "rtsp://admin:***@10.0.0.7:554/s",
            ),
            (
                "rtspsrc location=rtsp://u:p@h ! fakesink",
                "rtspsrc location=rtsp://u:***@h ! fakesink",
            ),
            ("srt://x:y@h?mode=caller", "srt://x:***@h?mode=caller"),
            ("http://a:b@c http://d:e@f", "http://a:***@c http://d:***@f"),
            // `@` and `:` in the password: up to the last `@`, from the first `:`.
            ("rtsp://admin:p@ss:w@rd@cam/x", "rtsp://admin:***@cam/x"),
            ("uri=\"rtmp://u:p w@h\"", "uri=\"rtmp://u:p w@h\""), // a space ends the authority
            (
                "location=\\\"rtsp://u:s3cr3t@h/x\\\"",
                "location=\\\"rtsp://u:***@h/x\\\"",
            ),
            ("git+ssh://me:pw@host", "git+ssh://me:***@host"),
            // Nothing to mask.
            ("rtsp://admin@cam/x", "rtsp://admin@cam/x"),
            ("rtsp://admin:@cam/x", "rtsp://admin:@cam/x"),
            ("rtsp://cam:554/x@y", "rtsp://cam:554/x@y"),
            ("file:///tmp/a:b@c", "file:///tmp/a:b@c"),
            ("://a:b@c", "://a:***@c"),
            ("1http://a:b@c", "1http://a:***@c"),
            ("videotestsrc ! fakesink", "videotestsrc ! fakesink"),
        ] {
            assert_eq!(redact(text), expected, "{text}");
        }
    }

    #[test]
    fn secret_properties_are_masked() {
        for (text, expected) in [
            (
                "rtspsrc user-id=admin user-pw=secret ! x",
                "rtspsrc user-id=admin user-pw=*** ! x",
            ),
            (
                "rtspsrc user-pw=\"a b c\" ! x",
                "rtspsrc user-pw=\"***\" ! x",
            ),
            ("rtspsrc user-pw='a b' ! x", "rtspsrc user-pw='***' ! x"),
            ("rtspsrc user-pw = secret", "rtspsrc user-pw = ***"),
            (
                "rtspsrc user-pw=(string)secret",
                "rtspsrc user-pw=(string)***",
            ),
            (
                "rtspsrc proxy-pw=x PROXY-PW=y",
                "rtspsrc proxy-pw=*** PROXY-PW=***",
            ),
            ("srtsrc passphrase=longsecret", "srtsrc passphrase=***"),
            (
                "s3sink secret-access-key=K auth_token=T",
                "s3sink secret-access-key=*** auth_token=***",
            ),
            ("bin src::user-pw=x", "bin src::user-pw=***"),
            (
                "http://h/p?user=a&password=b&x=1",
                "http://h/p?user=a&password=***&x=1",
            ),
            (
                "pipeline \"rtspsrc user-pw=\\\"s e\\\" ! x\"",
                "pipeline \"rtspsrc user-pw=\\\"***\\\" ! x\"",
            ),
            (
                "pipeline \"rtspsrc user-pw=secret\"",
                "pipeline \"rtspsrc user-pw=***\"",
            ),
            ("user-pw=\"unclosed", "user-pw=\"***"),
            // Not secrets.
            (
                "x264enc key-int-max=30 pass=qual",
                "x264enc key-int-max=30 pass=qual",
            ),
            ("identity passthrough=true", "identity passthrough=true"),
            ("rtspsrc user-pw= ! x", "rtspsrc user-pw= ! x"),
            ("user-pw=\"\"", "user-pw=\"\""),
        ] {
            assert_eq!(redact(text), expected, "{text}");
        }
    }

    #[test]
    fn nothing_to_mask_is_borrowed() {
        assert!(matches!(redact("videotestsrc ! appsink"), Cow::Borrowed(_)));
    }

    #[test]
    fn echo_cuts_long_descriptions_after_redacting() {
        let short = "rtspsrc location=rtsp://a:b@c ! fakesink";
        assert_eq!(echo(short), "rtspsrc location=rtsp://a:***@c ! fakesink");
        // The password sits across the cut: redacted first, so never half shown.
        let long = format!(
            "{}rtsp://u:{}@h {}",
            "x".repeat(190),
            "p".repeat(50),
            "y".repeat(40_000)
        );
        let shown = echo(&long);
        assert!(!shown.contains("pp"), "{shown}");
        assert!(
            shown.ends_with(&format!("… ({} bytes)", long.len())),
            "{shown}"
        );
        assert_eq!(
            shown.chars().count(),
            ECHO_CHARS + format!("… ({} bytes)", long.len()).chars().count()
        );
        // Cut on a character boundary.
        let wide = "é".repeat(300);
        assert!(echo(&wide).starts_with(&"é".repeat(ECHO_CHARS)));
    }

    fn password() -> impl Strategy<Value = String> {
        // Any printable ASCII but what ends an authority, plus some non-ASCII.
        "[A-Za-z0-9!$%&()*+,;=:@~._\\-é中]{4,24}"
            .prop_filter("not found by chance", |p| !p.contains("***"))
    }

    proptest! {
        /// Any scheme, user and password, anywhere in surrounding text: the password never
        /// remains, the user and the host do.
        #[test]
        fn url_password_never_remains(
            scheme in "[a-z][a-z0-9+.-]{0,8}",
            user in "[A-Za-z0-9._~-]{1,12}",
            pass in password(),
            host in "[a-z0-9.-]{1,20}(:[0-9]{1,5})?",
            path in "(/[A-Za-z0-9._-]{0,10}){0,3}",
            before in "[A-Za-z0-9 !#$%&()*+,./;<>?_-]{0,30}",
            after in "( [A-Za-z0-9 !#$%&()*+,./;<>?_-]{0,30})?",
        ) {
            let url = format!("{scheme}://{user}:{pass}@{host}{path}");
            let text = format!("{before} location={url}{after}");
            let shown = redact(&text);
            let expected = format!("{scheme}://{user}:{MASK}@{host}{path}");
            prop_assert!(shown.contains(&expected), "{} -> {}", text, shown);
            prop_assert!(!shown.contains(&format!(":{pass}@")), "{} -> {}", text, shown);
        }

        /// Secret properties, quoted or not, escaped or not: the value never remains.
        #[test]
        fn property_value_never_remains(
            name in "(user-pw|proxy-pw|passphrase|password|auth-token|client-secret)",
            value in "[A-Za-z0-9]{6,20}",
            quote in prop_oneof![Just(""), Just("\""), Just("'"), Just("\\\"")],
            spaced in any::<bool>(),
        ) {
            let eq = if spaced { " = " } else { "=" };
            let text = format!("rtspsrc location=rtsp://cam/x {name}{eq}{quote}{value}{quote} ! fakesink");
            let shown = redact(&text);
            prop_assert!(!shown.contains(&value), "{} -> {}", text, shown);
            prop_assert!(shown.contains(&format!("{name}{eq}{quote}{MASK}{quote} ! fakesink")), "{} -> {}", text, shown);
        }

        /// Text without `://` nor a secret name is left as it is, and nothing ever panics.
        #[test]
        fn anything_else_is_unchanged(text in "\\PC{0,200}") {
            let shown = redact(&text);
            if !text.contains("://") && !text.contains('=') {
                prop_assert_eq!(shown.as_ref(), text.as_str());
            }
            let _ = echo(&text);
        }
    }
}

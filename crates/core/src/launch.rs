//! Parsing `gst-launch-1.0` descriptions, with a guard around a crash in GStreamer's parser.
//!
//! # The crash
//!
//! After parsing, `priv_gst_parse_launch` (`gst/parse/grammar.y`) resolves the name
//! references of every link (`t.`, `t.src_0`) against the top-level element it built. When
//! the top level holds no element at all (`t. ! t.`, or `nosuch t. ! t.` where the only
//! element could not be made, or `, t. ! t.` where a syntax error dropped what came first),
//! that element is `NULL` and `gst_resolve_reference` reads its name: a segmentation fault.
//! The code is unchanged in every release from 1.0 up to 1.28.6 and on GStreamer's main
//! branch (checked in the sources of 1.22.0, 1.24.0, 1.26.0, 1.28.6 and main as of August
//! 2026), so [`PARSER_FIXED_IN`] is `None` and the guard applies to every version.
//!
//! # The guard
//!
//! Only a name reference can make such a link, and the lexer turns text into a reference
//! (`REF`) only in element position: `location=a.mp4`, `pattern=0.5`, quoted strings and
//! caps filters are parts of other tokens. [`tokens`] mirrors GStreamer's lexer
//! (`gst/parse/parse.l`, longest match, first rule on ties) to find them. A description
//! without one is handed to GStreamer as it is.
//!
//! A description with one is parsed behind an anchor, `( name=A bin name=B )`, removed
//! again afterwards: a bin that always ends up in the top level, so the top level is never
//! empty. It cannot change what the description means:
//!
//! - the anchor is a complete chain: the parser's default reductions put it into the chain
//!   list before an error in the description is noticed, so error recovery, which only
//!   unwinds to the chain list, never discards it;
//! - after a bin, only a pad reference (`.src`) or a link (`!`) could continue its chain,
//!   and a description starting with one of those is a syntax error for GStreamer: it is
//!   rejected here with GStreamer's message without being parsed; a property (`prop=value`)
//!   cannot attach to a bin, so it stays the syntax error it is without the anchor;
//! - its names appear nowhere in the description, so no reference resolves to it;
//! - GStreamer resolves references against the top level it built: the parser's pipeline
//!   when the description has several top-level elements (the same with the anchor), or the
//!   single element itself, outside any bin. That differs behind the anchor (a bin is
//!   searched inside only, so a reference to the bin itself fails; a link with caps needs a
//!   parent bin for its capsfilter), so when the anchored parse shows a single top-level
//!   element of the description, the description is parsed again without the anchor, which
//!   is safe since its top level is not empty; its elements are then made twice (the
//!   first ones are dropped).
//!
//! The anchored parse is made without `GST_PARSE_FLAG_FATAL_ERRORS` (which only decides
//! whether a partly built pipeline is returned with the error) so that its top level can be
//! inspected in both cases; an error is still an error.
//!
//! `crates/core/tests/guard.rs` checks all this against GStreamer's parser alone, run in a
//! child process: the same rejections with the same messages, a typed error where it
//! crashes, the same elements, properties and links where it accepts.

use crate::error::{Error, Result};
use crate::lexer::{Kind, tokens};
use gst::glib;
use gst::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The first GStreamer version whose parser no longer dereferences a null top-level
/// element, `(major, minor, micro)`; `None` while no release fixes it. The guard applies to
/// versions before it.
pub(crate) const PARSER_FIXED_IN: Option<(u32, u32, u32)> = None;

/// Whether the running GStreamer needs the guard.
fn parser_may_crash() -> bool {
    match PARSER_FIXED_IN {
        None => true,
        Some(fixed) => {
            let (major, minor, micro, _) = gst::version();
            (major, minor, micro) < fixed
        }
    }
}

/// Parses `description` into an element, as `gst_parse_launch_full` with fatal errors
/// would, but without crashing the process (see the module docs).
pub(crate) fn parse(description: &str) -> Result<gst::Element> {
    let parse_error = |message: String| Error::Parse {
        description: description.into(),
        message,
    };
    if let Some(at) = description.find('\0') {
        // glib would panic (debug builds) or silently cut the description there.
        return Err(parse_error(format!(
            "the description contains a NUL character at byte {at}"
        )));
    }
    let lexed = tokens(description.as_bytes());
    let references: Vec<&str> = lexed
        .iter()
        .filter(|t| t.kind == Kind::Ref)
        .filter_map(|t| description.get(t.range.clone()))
        .map(reference_name)
        .collect();
    if references.is_empty() || !parser_may_crash() {
        return launch_full(description, description);
    }
    // After the anchor, these would continue its chain; without it they are GStreamer's
    // first syntax error (nothing starts a chain with a link or a pad).
    if lexed
        .first()
        .is_some_and(|t| matches!(t.kind, Kind::PadRef | Kind::Link))
    {
        return Err(parse_error("syntax error".into()));
    }
    let anchor = Anchor::new(description);
    let anchored = format!("{} {description}", anchor.text());
    let mut context = gst::ParseContext::new();
    let (element, error) = launch_partial(&anchored, &mut context);
    let top = element.and_then(|e| e.downcast::<gst::Bin>().ok());
    let own: Vec<gst::Element> = top
        .as_ref()
        .filter(|t| t.name() != anchor.outer.as_str())
        .map(|t| {
            t.children()
                .into_iter()
                .filter(|c| c.name() != anchor.outer.as_str())
                .collect()
        })
        .unwrap_or_default();
    // Linking with caps (`a. ! video/x-raw ! b.`) adds a capsfilter next to the linked
    // elements after the description's own elements: those do not count (nor, to be safe,
    // capsfilters the description wrote).
    let described = own
        .iter()
        .filter(|e| e.factory().is_none_or(|f| f.name() != "capsfilter"))
        .count();
    if !own.is_empty() && described <= 1 {
        // GStreamer alone would return a single element itself, outside any bin, and
        // resolve the references against it: a bin is searched inside only (a reference to
        // the bin itself fails), and a link with caps needs a parent to put a capsfilter in.
        // Behind the anchor it sits in the parser's pipeline, where both work. Only a
        // top-level element links a capsfilter into the top level, so the description's top
        // level is not empty and GStreamer alone cannot crash on it: let it give its own
        // answer.
        drop(top);
        return launch_full(description, description);
    }
    if let Some(err) = error {
        return Err(parse_failure(err, &context, &anchored, description));
    }
    match top {
        // At least two elements of the description next to the anchor.
        Some(top) if described > 1 => anchor.remove(top).map_err(parse_error),
        // Nothing but the anchor, and yet no error: GStreamer alone returns nothing.
        _ => Err(parse_error("empty pipeline not allowed".into())),
    }
}

/// `gst_parse_launch_full` with fatal errors, on `text`; errors quote `description`.
fn launch_full(text: &str, description: &str) -> Result<gst::Element> {
    let mut context = gst::ParseContext::new();
    gst::parse::launch_full(text, Some(&mut context), gst::ParseFlags::FATAL_ERRORS)
        .map_err(|err| parse_failure(err, &context, text, description))
}

/// `gst_parse_launch_full` without fatal errors: what it built, partly when there is an
/// error, and the error. `text` holds no NUL.
fn launch_partial(
    text: &str,
    context: &mut gst::ParseContext,
) -> (Option<gst::Element>, Option<glib::Error>) {
    use glib::translate::{FromGlibPtrFull, FromGlibPtrNone, ToGlibPtr, ToGlibPtrMut};
    let mut error = std::ptr::null_mut();
    // SAFETY: `text` is converted to a NUL-terminated string that lives until the call
    // returns, `context` is a valid parse context borrowed mutably for the call, and `error`
    // points to a NULL `GError*` as the function requires. The function returns NULL or a
    // floating reference, which `from_glib_none` sinks (as `gst::parse::launch_full` does),
    // and hands the error over to the caller (`from_glib_full` takes ownership).
    unsafe {
        let ret = gst::ffi::gst_parse_launch_full(
            text.to_glib_none().0,
            context.to_glib_none_mut().0,
            gst::ffi::GST_PARSE_FLAG_NONE,
            &mut error,
        );
        let element: Option<gst::Element> = FromGlibPtrNone::from_glib_none(ret);
        let error = (!error.is_null()).then(|| FromGlibPtrFull::from_glib_full(error));
        (element, error)
    }
}

/// The typed error for a failed parse of `text` (`description`, or it behind the anchor).
fn parse_failure(
    err: glib::Error,
    context: &gst::ParseContext,
    text: &str,
    description: &str,
) -> Error {
    let kind = err.kind::<gst::ParseError>();
    let message = err.message().replace(text, description);
    // GStreamer 1.22 also lists elements whose properties could not be set
    // (`videotestsrc n=3`): only factories that are really not installed count.
    let missing = context
        .missing_elements()
        .into_iter()
        .find(|f| gst::ElementFactory::find(f).is_none());
    if let Some(factory) = missing {
        return Error::MissingElement {
            factory,
            description: description.into(),
        };
    }
    // `no element "foo"`, `no source element for URI "foo://x"`; not
    // `No src-element named "t"` (an unresolved name reference).
    let names_factory = message.starts_with("no element \"") || message.contains("element for URI");
    if kind == Some(gst::ParseError::NoSuchElement) && names_factory {
        return Error::MissingElement {
            factory: quoted(&message).unwrap_or_else(|| message.clone()),
            description: description.into(),
        };
    }
    Error::Parse {
        description: description.into(),
        message,
    }
}

/// The element name of a reference token (`t` of `t.src_0`).
fn reference_name(token: &str) -> &str {
    token.split_once('.').map_or(token, |(name, _)| name)
}

/// The bin put in front of a description with references, and the element inside it (a bin
/// must not be empty).
struct Anchor {
    outer: String,
    inner: String,
}

impl Anchor {
    /// Names that occur nowhere in `description`, so nothing in it can refer to them.
    fn new(description: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        loop {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let outer = format!("gstpipe-anchor-{n}");
            let inner = format!("{outer}-inner");
            if !description.contains(&outer) {
                return Anchor { outer, inner };
            }
        }
    }

    fn text(&self) -> String {
        format!("( name={} bin name={} )", self.outer, self.inner)
    }

    /// The anchored parse's top level, holding the anchor and at least two elements of the
    /// description, without the anchor: the parser's pipeline GStreamer returns for the
    /// description alone. Errors are parse messages.
    fn remove(&self, top: gst::Bin) -> std::result::Result<gst::Element, String> {
        if let Some(anchor) = top
            .children()
            .into_iter()
            .find(|c| c.name() == self.outer.as_str())
        {
            top.remove(&anchor)
                .map_err(|e| format!("cannot remove the parser anchor: {e}"))?;
        }
        Ok(top.upcast())
    }
}

/// The first `"..."` quoted part of a message (GStreamer's `no element "foo"`).
fn quoted(message: &str) -> Option<String> {
    let start = message.find('"')? + 1;
    let len = message[start..].find('"')?;
    Some(message[start..start + len].to_string())
}

// ---------------------------------------------------------------------------------------
// The lexer.

#[cfg(test)]
mod tests {
    use super::quoted;
    use crate::lexer::{Kind, tokens};

    fn lex(text: &str) -> Vec<(Kind, String)> {
        tokens(text.as_bytes())
            .into_iter()
            .map(|t| {
                (
                    t.kind,
                    String::from_utf8_lossy(&text.as_bytes()[t.range]).into(),
                )
            })
            .collect()
    }

    fn tok(expected: &[(Kind, &str)]) -> Vec<(Kind, String)> {
        expected
            .iter()
            .map(|(k, t)| (*k, (*t).to_owned()))
            .collect()
    }

    fn refs(text: &str) -> Vec<String> {
        lex(text)
            .into_iter()
            .filter(|(k, _)| *k == Kind::Ref)
            .map(|(_, t)| t)
            .collect()
    }

    #[test]
    fn references_are_tokens_in_element_position() {
        use Kind::*;
        assert_eq!(
            lex("tee name=t t.src_0 ! queue"),
            tok(&[
                (Identifier, "tee"),
                (Assignment, "name=t"),
                (Ref, "t.src_0"),
                (Link, "!"),
                (Identifier, "queue"),
            ])
        );
        assert_eq!(refs("t. ! t."), ["t.", "t."]);
        assert_eq!(refs("a!t."), ["t."]);
        assert_eq!(refs("u.:a./"), ["u.", "a."]);
        assert_eq!(refs("pipeline. ! t."), ["pipeline.", "t."]);
        // A file name or a number in element position is a reference too.
        assert_eq!(refs("a.mp4 ! fakesink"), ["a.mp4"]);
    }

    #[test]
    fn values_caps_and_quotes_hold_no_reference() {
        for text in [
            "filesrc location=a.mp4 ! fakesink",
            "videotestsrc pattern=0.5 ! fakesink",
            "name=f.o fakesrc num-buffers=1 ! fakesink",
            "filesrc location = \"a b.mp4\" ! fakesink",
            "filesrc location='x.y z' ! fakesink",
            "videotestsrc ! video/x-raw,format=(string)a.b,framerate=30/1 ! fakesink",
            "videotestsrc ! video/x-raw ; video/x-bayer ! fakesink",
            "file:///tmp/a.mp4 ! fakesink",
            "fakesrc ! .sink queue",
            "pipeline.( fakesink )",
            "bin . ( fakesink )",
        ] {
            assert!(refs(text).is_empty(), "{text}: {:?}", lex(text));
        }
    }

    #[test]
    fn lexer_rules_match_longest_then_first() {
        use Kind::*;
        assert_eq!(lex("pipeline.("), tok(&[(BinRef, "pipeline.(")]));
        assert_eq!(lex(".src"), tok(&[(PadRef, ".src")]));
        assert_eq!(lex("@preset=x"), tok(&[(Preset, "@preset=x")]));
        assert_eq!(lex("/dev/video0"), tok(&[(Url, "/dev/video0")]));
        assert_eq!(
            lex("! video/x-raw,width=5 !"),
            tok(&[(Link, "! video/x-raw,width=5 !")])
        );
        assert_eq!(lex(":"), tok(&[(Link, ":")]));
        assert_eq!(lex("=x"), tok(&[(Operator, "="), (Identifier, "x")]));
        // Bytes no rule takes, one at a time (a two-byte character is two tokens).
        assert_eq!(lex("\"é").len(), 3);
    }

    /// GStreamer's own lexer logs every token it returns (`PRINT` in parse.l, category
    /// GST_PIPELINE). Two chains in front of the description keep the parser's top level
    /// from being empty whatever the description holds (the first is in the chain list
    /// before the description is read), so parsing cannot crash; the lexer has no state, so
    /// they do not change how the description is split. Returns the description's tokens as
    /// `Kind text`, the text as the log prints it.
    fn gstreamer_tokens(description: &str) -> Vec<String> {
        use std::sync::{Arc, Mutex, OnceLock};
        type Log = Arc<Mutex<Vec<(std::thread::ThreadId, String)>>>;
        static LOG: OnceLock<Log> = OnceLock::new();
        let log = LOG.get_or_init(|| {
            crate::init().expect("gst init");
            let log: Log = Arc::default();
            let sink = Arc::clone(&log);
            gst::log::add_log_function(move |category, _, _, _, _, _, message| {
                if category.name() != "GST_PIPELINE" {
                    return;
                }
                if let Some(text) = message.get()
                    && let Some(token) = text.as_str().strip_prefix("flex: ")
                {
                    let entry = (std::thread::current().id(), token.to_owned());
                    sink.lock().unwrap().push(entry);
                }
            });
            gst::log::remove_default_log_function();
            gst::log::set_active(true);
            gst::log::set_threshold_for_name("GST_PIPELINE", gst::DebugLevel::Debug);
            log
        });
        let me = std::thread::current().id();
        log.lock().unwrap().retain(|(t, _)| *t != me);
        let text = format!("fakesrc name=lexa ( fakesrc name=lexb ) {description}");
        let _ = gst::parse::launch_full(&text, None, gst::ParseFlags::FATAL_ERRORS);
        let logged: Vec<String> = log
            .lock()
            .unwrap()
            .iter()
            .filter(|(t, _)| *t == me)
            .map(|(_, l)| l.clone())
            .collect();
        let mut out: Vec<String> = logged
            .iter()
            .filter_map(|line| {
                let (kind, text) = line.split_once(": ")?;
                let kind = match kind {
                    "ASSIGNMENT" => "Assignment",
                    "PRESET" => "Preset",
                    "PADREF" => "PadRef",
                    "REF" => "Ref",
                    "BINREF" => "BinRef",
                    "IDENTIFIER" => "Identifier",
                    "LINK" => "Link",
                    "URL" => "Url",
                    "OPERATOR" => "Operator",
                    "SPACE" => return None,
                    // `Invalid Lexer element: %s\n`: one byte, maybe half a character.
                    "Invalid Lexer element" => return Some("Other".to_owned()),
                    other => panic!("unknown lexer log line {other:?}"),
                };
                let text = match kind {
                    "Operator" => &text[1..text.len() - 1],
                    _ => text,
                };
                Some(format!("{kind} {text}"))
            })
            .collect();
        assert!(out.len() >= 6, "the prefix was not lexed: {logged:?}");
        out.drain(..6);
        out
    }

    /// [`tokens`] in the form [`gstreamer_tokens`] gives (the text as parse.l's `PRINT`
    /// prints it).
    fn our_tokens(description: &str) -> Vec<String> {
        let bytes = description.as_bytes();
        let mut lexed = tokens(bytes);
        // The lexer returns a byte no rule takes as its own token (`return *yytext`): where
        // `char` is signed, a byte from 0x80 up is negative, which the parser takes for the
        // end of the input, and it reads no further.
        #[allow(clippy::unnecessary_cast)]
        let signed = (0x80u8 as std::ffi::c_char) < (0 as std::ffi::c_char);
        if signed
            && let Some(end) = lexed
                .iter()
                .position(|t| t.kind == Kind::Other && bytes[t.range.start] >= 0x80)
        {
            lexed.truncate(end + 1);
        }
        lexed
            .into_iter()
            .map(|t| {
                let text = String::from_utf8_lossy(&bytes[t.range.clone()]).into_owned();
                match t.kind {
                    Kind::Other => "Other".to_owned(),
                    // After the `=`, spaces included.
                    Kind::Preset => format!("Preset {}", &text[text.find('=').unwrap() + 1..]),
                    Kind::PadRef => format!("PadRef {}", &text[1..]),
                    // The factory name alone.
                    Kind::BinRef => format!(
                        "BinRef {}",
                        text.split(|c: char| c == '.' || c.is_ascii_whitespace())
                            .next()
                            .unwrap()
                    ),
                    kind => format!("{kind:?} {text}"),
                }
            })
            .collect()
    }

    fn check_against_gstreamer(description: &str) {
        let theirs = gstreamer_tokens(description);
        let ours = our_tokens(description);
        assert_eq!(theirs, ours, "{description:?}");
    }

    #[test]
    fn tokens_match_gstreamers_lexer() {
        use proptest::prelude::*;
        use proptest::strategy::ValueTree as _;
        let fixed = [
            "tee name=t t.src_0 ! queue",
            "t. ! t.",
            "u.:a./",
            "filesrc location=a.mp4 ! fakesink",
            "videotestsrc pattern=0.5 ! fakesink",
            "name=f.o fakesrc num-buffers=1 ! fakesink",
            "filesrc location = \"a b.mp4\" ! fakesink",
            "filesrc location='x.y z' ! fakesink",
            "fakesrc ! video/x-raw,format=(string)a.b,framerate=30/1 ! fakesink",
            "fakesrc ! video/x-raw ; video/x-bayer ! fakesink",
            "fakesrc ! video/x-raw,a=\"!\" ! fakesink",
            "file:///tmp/a.mp4 ! fakesink",
            "fakesrc ! .sink queue",
            "pipeline.( fakesink )",
            "bin . ( fakesink )",
            "fakesrc @preset=x ! fakesink",
            "/dev/video0 ! x.",
            "a.b.c d..e .f.g",
            "!! :: ! : !video/x-raw: :video/x-raw!",
            "x = \"a\\\"b\" y='c\\'d' z=\\ w",
            "é t.é 😀 \\ \" ' ; { } [ ]",
            "EO\\3J1g6Z`$+=V.:]'k?,z],ibjp_\"Hu.:a.oEl2/`|Hah$9E NT/S`&$`bTRW8&:/",
        ];
        for description in fixed {
            check_against_gstreamer(description);
        }
        // Random soups of the lexer's tricky parts.
        let fragment = prop::sample::select(
            &[
                "t.",
                "t.src_0",
                "a.mp4",
                "0.5",
                "x=y",
                "x = y",
                "x=\"q r\"",
                "x='q r'",
                "x=a.b",
                "@preset=p",
                "@preset = \"p q\"",
                "!",
                "!!",
                ":",
                "! video/x-raw,a=b !",
                "!video/x-raw;audio/x-raw:",
                ".src",
                ".",
                ",",
                "=",
                ";",
                "(",
                ")",
                "bin.(",
                "b .(",
                "file:///x",
                "http://h/p",
                "/dev/x",
                "./x",
                "a/b",
                "\\",
                "\\ ",
                "\"",
                "'",
                "é",
                "%s",
                "\n",
                "\t",
                "x-y_z%:",
                "_.",
                "9.9.9",
            ][..],
        );
        let soup = prop::collection::vec(
            (fragment, prop::sample::select(&["", " ", "  "][..])),
            0..12,
        )
        .prop_map(|parts| {
            parts
                .into_iter()
                .map(|(f, s)| format!("{f}{s}"))
                .collect::<String>()
        });
        let strategy = prop_oneof![3 => soup, 1 => "[ -~]{0,40}", 1 => any::<String>()];
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let mut total = 0;
        while total < 500 {
            let description = strategy.new_tree(&mut runner).unwrap().current();
            if !description.contains('\0') {
                check_against_gstreamer(&description);
                total += 1;
            }
        }
    }

    #[test]
    fn quoted_takes_the_first_quoted_part() {
        assert_eq!(quoted(r#"no element "foo""#).as_deref(), Some("foo"));
        assert_eq!(quoted("no quotes"), None);
        assert_eq!(quoted(r#"unterminated "x"#), None);
    }
}

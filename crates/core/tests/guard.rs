//! The launch guard checked against GStreamer's own parser.
//!
//! `Pipeline::launch` parses some descriptions behind an anchor element to keep GStreamer's
//! parser from dereferencing a null pointer. The reference here is that parser without any
//! guard, `gst_parse_launch_full` with fatal errors, run in a child process (this test binary
//! again, see [`child_entry`]) because it may crash. For every description: what GStreamer
//! rejects, `launch` rejects (with GStreamer's message); what crashes GStreamer is a typed
//! error; what GStreamer accepts, `launch` accepts, giving the same elements, properties and
//! links.

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Command, Stdio};
use std::time::Duration;

use gst::prelude::*;
use gstpipe_core::{Error, Pipeline};

const CHILD_MODE: &str = "GSTPIPE_GUARD_CHILD";
const CHILD_INPUT: &str = "GSTPIPE_GUARD_INPUT";
/// How long a child may run before it exits on its own, with [`CHILD_TIMED_OUT`].
const CHILD_LIMIT: Duration = Duration::from_secs(60);
const CHILD_TIMED_OUT: i32 = 3;

/// What parsing one description gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// The element tree, canonical (see [`structure`]).
    Built(Vec<String>),
    /// GStreamer's message, or gstpipe's typed error.
    Rejected(String),
    /// Missing factory (gstpipe's `Error::MissingElement`).
    Missing(String),
    /// The process died, killed by this signal (11: the parser's null pointer; 6: an abort,
    /// such as a stack overflow).
    Crashed(i32),
}

/// SIGSEGV, how the parser's null pointer dereference ends the process.
const SIGSEGV: i32 = 11;

/// Runs in a child process only (`GSTPIPE_GUARD_CHILD` set): parses each description of the
/// input file (NUL-separated) either with GStreamer alone (`raw`) or with
/// `Pipeline::launch` (`guarded`) and prints one `RESULT` line per description, flushed, so
/// the parent knows where a crash happened. In a normal test run it returns at once.
#[test]
fn child_entry() {
    let Some(mode) = std::env::var_os(CHILD_MODE) else {
        return;
    };
    // Bounded from inside, so that the parent needs no watchdog thread of its own.
    std::thread::spawn(|| {
        let (_keep, never) = std::sync::mpsc::channel::<()>();
        let _ = never.recv_timeout(CHILD_LIMIT);
        std::process::exit(CHILD_TIMED_OUT);
    });
    let input = std::env::var_os(CHILD_INPUT).expect("input file");
    let text = std::fs::read_to_string(input).expect("read input");
    gstpipe_core::init().expect("gst init");
    let raw = mode == "raw";
    // GLib's critical warnings and warnings (`g_return_if_fail`, invalid property values),
    // per description.
    let warnings = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let sink = std::sync::Arc::clone(&warnings);
    gst::glib::log_set_default_handler(move |domain, level, message| {
        if matches!(
            level,
            gst::glib::LogLevel::Critical | gst::glib::LogLevel::Warning
        ) {
            let line = format!("{level:?} {}: {message}", domain.unwrap_or("?"));
            sink.lock().unwrap().push(line);
        }
    });
    let mut out = std::io::stdout().lock();
    for (i, description) in text.split('\0').enumerate() {
        warnings.lock().unwrap().clear();
        let parsed = if raw {
            let mut context = gst::ParseContext::new();
            match gst::parse::launch_full(
                description,
                Some(&mut context),
                gst::ParseFlags::FATAL_ERRORS,
            ) {
                Ok(element) => {
                    let built = Parsed::Built(structure(&element));
                    // As `Pipeline` does when dropped (a bin checks its graph then).
                    let _ = element.set_state(gst::State::Null);
                    built
                }
                Err(err) => Parsed::Rejected(err.message().to_owned()),
            }
        } else {
            match Pipeline::launch(description) {
                Ok(pipeline) => Parsed::Built(structure(pipeline.gst().upcast_ref())),
                Err(Error::Parse { message, .. }) => Parsed::Rejected(message),
                Err(Error::MissingElement { factory, .. }) => Parsed::Missing(factory),
                Err(other) => Parsed::Rejected(format!("unexpected error: {other:?}")),
            }
        };
        let warned = std::mem::take(&mut *warnings.lock().unwrap());
        writeln!(out, "WARNINGS {i} {warned:?}").expect("stdout");
        writeln!(out, "RESULT {i} {parsed:?}").expect("stdout");
        out.flush().expect("stdout");
    }
}

/// Parses `descriptions` in child processes: `raw` (GStreamer alone, restarted after each
/// crash) or `guarded` (`Pipeline::launch`). Bounded: a child exits on its own after
/// [`CHILD_LIMIT`], which fails the test.
pub fn parse_in_child(
    mode: &str,
    descriptions: &[String],
    extra_env: &[(&str, &str)],
) -> Vec<(Parsed, Vec<String>)> {
    assert!(descriptions.iter().all(|d| !d.contains('\0')));
    let dir = std::env::temp_dir();
    let mut results = Vec::with_capacity(descriptions.len());
    while results.len() < descriptions.len() {
        let rest = &descriptions[results.len()..];
        let input = dir.join(format!(
            "gstpipe-guard-{}-{mode}-{}.txt",
            std::process::id(),
            unique()
        ));
        std::fs::write(&input, rest.join("\0")).expect("write input");
        let mut command = Command::new(std::env::current_exe().expect("test binary"));
        command
            .args([
                "guard::child_entry",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_MODE, mode)
            .env(CHILD_INPUT, &input)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (k, v) in extra_env {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("spawn the test binary");
        // The child exits on its own within CHILD_LIMIT, which ends its output.
        let stdout = child.stdout.take().expect("stdout");
        let lines: Vec<String> = BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .collect();
        let status = child.wait().expect("wait for the child");
        assert_ne!(
            status.code(),
            Some(CHILD_TIMED_OUT),
            "the {mode} child did not finish within {CHILD_LIMIT:?}"
        );
        if status.success() || mode == "raw" {
            let _ = std::fs::remove_file(&input);
        } else {
            eprintln!(
                "kept the input of the failed {mode} child: {}",
                input.display()
            );
        }
        let before = results.len();
        let mut warned = Vec::new();
        for line in &lines {
            // libtest may print `test guard::child_entry ... ` in front of the first one.
            if let Some((_, rest)) = line.split_once("WARNINGS ") {
                let (_, value) = rest.split_once(' ').expect("WARNINGS i value");
                warned = debug_strings(value);
            } else if let Some((_, rest)) = line.split_once("RESULT ") {
                let (_, value) = rest.split_once(' ').expect("RESULT i value");
                results.push((parse_debug(value), std::mem::take(&mut warned)));
            }
        }
        if results.len() < descriptions.len() {
            // The child died on the next description.
            assert!(
                !status.success(),
                "the {mode} child exited cleanly after {} of {} descriptions",
                results.len() - before,
                rest.len()
            );
            use std::os::unix::process::ExitStatusExt as _;
            let signal = status.signal().unwrap_or_else(|| {
                panic!(
                    "the {mode} child failed ({status}) on {:?}",
                    descriptions[results.len()]
                )
            });
            results.push((Parsed::Crashed(signal), Vec::new()));
        }
    }
    results
}

fn unique() -> usize {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Reads back a `Parsed` printed with `{:?}` (strings as Rust debug literals).
fn parse_debug(text: &str) -> Parsed {
    let strings = debug_strings(text);
    if text.starts_with("Built(") {
        Parsed::Built(strings)
    } else if text.starts_with("Rejected(") {
        Parsed::Rejected(strings.into_iter().next().unwrap_or_default())
    } else if text.starts_with("Missing(") {
        Parsed::Missing(strings.into_iter().next().unwrap_or_default())
    } else {
        panic!("unexpected child output {text:?}")
    }
}

/// The string literals of a `{:?}` output, unescaped.
fn debug_strings(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '"' {
            continue;
        }
        let mut s = String::new();
        while let Some(c) = chars.next() {
            match c {
                '"' => break,
                '\\' => match chars.next() {
                    Some('n') => s.push('\n'),
                    Some('r') => s.push('\r'),
                    Some('t') => s.push('\t'),
                    Some('0') => s.push('\0'),
                    Some('u') => {
                        let hex: String =
                            chars.by_ref().skip(1).take_while(|&c| c != '}').collect();
                        let code = u32::from_str_radix(&hex, 16).expect("hex escape");
                        s.push(char::from_u32(code).expect("char"));
                    }
                    Some(other) => s.push(other),
                    None => {}
                },
                c => s.push(c),
            }
        }
        out.push(s);
    }
    out
}

/// The element tree under `top`, canonical: one line per element (path, factory, the
/// properties that serialise) and per linked pad, with counter-generated names (`fakesrc3`)
/// renumbered in order of appearance, so two processes that made other elements before
/// compare equal. A pipeline at the top with a generated name is left out (GStreamer
/// returns a lone element unwrapped; `Pipeline` wraps it).
pub fn structure(top: &gst::Element) -> Vec<String> {
    let mut names = Canon::default();
    let mut lines = Vec::new();
    let generated = |e: &gst::Element| {
        e.is::<gst::Pipeline>()
            && e.name().trim_end_matches(|c: char| c.is_ascii_digit()) == "pipeline"
    };
    let mut elements = Vec::new();
    // Paths are relative to the generated pipeline, else they start with `top`.
    let root = if generated(top) {
        Some(top.clone().upcast::<gst::Object>())
    } else {
        top.parent()
    };
    if generated(top) {
        let bin = top.downcast_ref::<gst::Bin>().expect("a pipeline is a bin");
        collect(bin, &mut elements);
    } else {
        elements.push(top.clone());
        if let Some(bin) = top.downcast_ref::<gst::Bin>() {
            collect(bin, &mut elements);
        }
    }
    for element in &elements {
        let path = path_of(element, root.as_ref(), &mut names);
        let factory = element
            .factory()
            .map(|f| f.name().to_string())
            .unwrap_or_default();
        let mut props = Vec::new();
        for spec in element.list_properties() {
            let name = spec.name();
            if !spec.flags().contains(gst::glib::ParamFlags::READABLE)
                || name == "name"
                || name == "parent"
            {
                continue;
            }
            // Objects and pointers do not serialise; a NULL sample makes GStreamer complain.
            let kind = spec.value_type();
            if kind.is_a(gst::glib::Type::OBJECT)
                || kind.is_a(gst::glib::Type::POINTER)
                || kind.is_a(gst::Sample::static_type())
                || kind.is_a(gst::Buffer::static_type())
            {
                continue;
            }
            let value = element.property_value(name);
            if let Ok(text) = value.serialize() {
                props.push(format!("{name}={text}"));
            }
        }
        lines.push(format!("element {path} {factory} {}", props.join(" ")));
    }
    for element in &elements {
        let path = path_of(element, root.as_ref(), &mut names);
        for pad in element.pads() {
            if let Some(peer) = pad.peer() {
                let owner = peer
                    .parent()
                    .map(|p| names.of(&p.name()))
                    .unwrap_or_default();
                lines.push(format!(
                    "link {path}.{} -> {owner}.{}",
                    names.of(&pad.name()),
                    names.of(&peer.name())
                ));
            }
        }
    }
    lines
}

fn collect(bin: &gst::Bin, out: &mut Vec<gst::Element>) {
    // `children()` lists the newest first; the order elements were added is the reverse.
    for child in bin.children().into_iter().rev() {
        out.push(child.clone());
        if let Some(inner) = child.downcast_ref::<gst::Bin>() {
            collect(inner, out);
        }
    }
}

fn path_of(element: &gst::Element, root: Option<&gst::Object>, names: &mut Canon) -> String {
    let mut parts = vec![names.of(&element.name())];
    let mut at = element.parent();
    while let Some(parent) = at {
        if Some(&parent) == root {
            break;
        }
        parts.push(names.of(&parent.name()));
        at = parent.parent();
    }
    parts.reverse();
    parts.join("/")
}

/// Renumbers counter-generated names (`name` + digits) in order of appearance.
#[derive(Default)]
struct Canon {
    seen: HashMap<String, String>,
    per_stem: HashMap<String, usize>,
}

impl Canon {
    fn of(&mut self, name: &str) -> String {
        let stem = name.trim_end_matches(|c: char| c.is_ascii_digit());
        if stem.len() == name.len() || stem.is_empty() {
            return name.to_owned();
        }
        if let Some(canon) = self.seen.get(name) {
            return canon.clone();
        }
        let n = self.per_stem.entry(stem.to_owned()).or_default();
        let canon = format!("{stem}#{n}");
        *n += 1;
        self.seen.insert(name.to_owned(), canon.clone());
        canon
    }
}

/// A message with counter-generated names renumbered (`could not link fakesrc3 to ...`).
fn canon_message(message: &str) -> String {
    let mut names = Canon::default();
    let mut out = String::new();
    let mut word = String::new();
    for c in message.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
            word.push(c);
        } else {
            out.push_str(&names.of(&word));
            word.clear();
            out.push(c);
        }
    }
    out.pop();
    out
}

/// How GStreamer alone fared on a set of descriptions, and where `launch` differed.
pub struct Comparison {
    /// Descriptions GStreamer crashed on.
    pub crashed: usize,
    /// Descriptions GStreamer built a pipeline from.
    pub built: usize,
    /// One entry per description where `launch` differed.
    pub mismatches: Vec<String>,
    /// Descriptions on which GStreamer aborts in other ways, with and without the guard.
    pub other_crashes: Vec<String>,
}

/// Checks `launch` against GStreamer for each description.
pub fn compare(descriptions: &[String]) -> Comparison {
    let raw = parse_in_child("raw", descriptions, &[]);
    let guarded = parse_in_child("guarded", descriptions, &[]);
    let mut out = Vec::new();
    let mut other_crashes = Vec::new();
    for ((description, (raw, raw_warned)), (guarded, warned)) in
        descriptions.iter().zip(&raw).zip(&guarded)
    {
        // No GLib critical warning that GStreamer alone does not give (with counter-generated
        // names renumbered). Plain warnings may differ: when the anchored parse shows a single
        // top-level element, GStreamer parses the description a second time, and the first
        // parse's links can warn (`Trying to link elements ... that don't share a common
        // ancestor`) where GStreamer alone does not.
        if !matches!(raw, Parsed::Crashed(_)) {
            let known: Vec<String> = raw_warned.iter().map(|w| canon_message(w)).collect();
            let new: Vec<&String> = warned
                .iter()
                .filter(|w| w.starts_with("Critical") && !known.contains(&canon_message(w)))
                .collect();
            if !new.is_empty() {
                out.push(format!(
                    "{description:?}\n  GLib criticals of launch only: {new:?}"
                ));
            }
        }
        let fine = match (raw, guarded) {
            (Parsed::Built(a), Parsed::Built(b)) => a == b,
            (Parsed::Crashed(_), Parsed::Rejected(_) | Parsed::Missing(_)) => true,
            // GStreamer aborting on its own (a caps query that recurses around a loop of
            // links, `tee name=t t. ! queue ! t.`, overflows the stack) is not the parser
            // crash the guard is for; the guarded parse must never die of that one.
            (Parsed::Crashed(a), Parsed::Crashed(b)) if a == b && *a != SIGSEGV => {
                other_crashes.push(format!("{description:?} (signal {a})"));
                true
            }
            (Parsed::Rejected(a), Parsed::Rejected(b)) => canon_message(a) == canon_message(b),
            // GStreamer names the factory in its message (`no element "x"`), or the
            // first error was about something else and the factory is listed as missing.
            (Parsed::Rejected(_), Parsed::Missing(factory)) => {
                gst::ElementFactory::find(factory).is_none()
            }
            _ => false,
        };
        if !fine {
            out.push(format!(
                "{description:?}\n  GStreamer: {raw:?}\n  launch:    {guarded:?}"
            ));
        }
    }
    Comparison {
        crashed: raw
            .iter()
            .filter(|(r, _)| *r == Parsed::Crashed(SIGSEGV))
            .count(),
        other_crashes,
        built: raw
            .iter()
            .filter(|(r, _)| matches!(r, Parsed::Built(_)))
            .count(),
        mismatches: out,
    }
}

/// The examples, the descriptions that crashed GStreamer's parser, and
/// references whose meaning must not change.
#[test]
fn launch_agrees_with_gstreamer_on_references() {
    gstpipe_core::init().expect("gst init");
    let descriptions: Vec<String> = [
        // A leading property is a syntax error; it bound to the old anchor element.
        "message-forward=true fakesrc ! fakesink",
        "message-forward=true t. ! fakesink",
        "message-forward=true fakesrc name=t t. ! fakesink",
        "name=f.o fakesrc num-buffers=1 ! fakesink",
        "name=t fakesrc ! t.",
        "@preset=x fakesrc name=t t. ! fakesink",
        // Dots inside values, quotes and caps are no references.
        "filesrc location=a.mp4 ! fakesink",
        "audiotestsrc volume=0.5 ! fakesink",
        "filesrc location=\"a b.mp4\" ! fakesink",
        "fakesrc ! video/x-raw,format=(string)a.b ! fakesink",
        // References that resolve.
        "fakesrc num-buffers=3 ! tee name=t t. ! queue ! fakesink t. ! queue ! fakesink",
        "tee name=t  t.src_0 ! queue ! fakesink  fakesrc ! t.",
        "pipeline. ( name=mine latency=7 fakesrc num-buffers=1 ! tee name=t t. ! fakesink )",
        "bin. ( name=b fakesrc name=s ) s. ! fakesink",
        "( fakesrc name=s ) s. ! fakesink",
        "identity name=i i. ! i.",
        "fakesrc name=s s. ! fakesink",
        // A lone element with a caps link to itself: no bin to put a capsfilter in.
        "u. ! video/x-raw ! identity name=u",
        "identity name=i i. ! video/x-raw ! i.",
        "fakesrc name=s s. ! video/x-raw ! fakesink",
        // References that do not, or to the lone top-level bin itself.
        "t. ! fakesink",
        "fakesrc ! t.",
        "bin. ( name=b fakesrc ! b. )",
        "bin. ( name=b fakesrc ! identity name=i ) b. ! i.",
        "pipeline. ( name=p fakesrc ! p. )",
        "gstpipe-anchor-0. ! fakesink",
        "gstpipe-anchor-0-inner. ! fakesink",
        "bin0. ! fakesink",
        // Starting with a link or a pad: syntax errors, even when an element follows.
        "!! fakesink t. ! fakesink",
        "! fakesink t. ! t.",
        ".src ! fakesink t. ! fakesink",
        ".src , t. ! t.",
        ": fakesink t. ! fakesink",
        "! video/x-raw ! fakesink t. ! t.",
        // These crashed GStreamer's parser.
        "t. ! t.",
        "t.!o/E!t.",
        "t. ! video/x-raw ! u.",
        "nosuch t. ! t.",
        ", t. ! t.",
        "= t. ! t.",
        "t. ! t. nosuch",
        "t. ! t. \u{e86} tee",
        "pipeline. ! t.",
        "u.:a./",
        "t.!identity)!",
        "pipeline.( t.!identity)! )",
        "fakesrc x=y t. ! t.",
        "t.src_0 ! video/x-raw,format=RGBA64_BE{,height=1.5 ! t.src_0 ! \u{e86}Z\\! tee",
        "EO\\3J1g6Z`$+=V.:]'k?,z],ibjp_\"Hu.:a.oEl2/`|Hah$9E NT/S`&$`bTRW8&:/",
    ]
    .map(str::to_owned)
    .to_vec();
    let compared = compare(&descriptions);
    // The reference is live: GStreamer crashes on some, accepts others.
    assert!(compared.crashed >= 10, "{} crashed", compared.crashed);
    assert!(compared.built >= 5, "{} built", compared.built);
    let bad = compared.mismatches;
    assert!(
        bad.is_empty(),
        "{} mismatches:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

/// `name=f.o ...` made GLib print a critical warning; a description with a reference and
/// one without, in a child process where any critical aborts.
#[test]
fn no_glib_critical_for_dotted_values() {
    let descriptions: Vec<String> = [
        "name=f.o fakesrc num-buffers=1 ! fakesink",
        "fakesrc name=f.o num-buffers=1 ! fakesink",
        "fakesrc name=t t. ! fakesink name=f.o",
    ]
    .map(str::to_owned)
    .to_vec();
    let results = parse_in_child("guarded", &descriptions, &[("G_DEBUG", "fatal-criticals")]);
    assert_eq!(results.len(), descriptions.len());
    assert!(
        matches!(&results[0].0, Parsed::Rejected(m) if m == "syntax error"),
        "{results:?}"
    );
    for (description, (_, warned)) in descriptions.iter().zip(&results) {
        assert!(warned.is_empty(), "{description:?}: {warned:?}");
    }
}

/// A pipeline taken out of a bin has no bus; `from_pipeline` panicked on it.
#[test]
fn a_pipeline_without_a_bus_is_given_one() {
    crate::util::bounded(30, || {
        gstpipe_core::init().expect("gst init");
        let inner = gst::Pipeline::with_name("busless");
        let src = gst::ElementFactory::make("fakesrc")
            .property("num-buffers", 3)
            .build()
            .expect("fakesrc");
        let sink = gst::ElementFactory::make("fakesink")
            .build()
            .expect("fakesink");
        inner.add_many([&src, &sink]).expect("add");
        src.link(&sink).expect("link");
        let outer = gst::Bin::new();
        outer.add(&inner).expect("add to a bin");
        outer.remove(&inner).expect("remove from the bin");
        assert!(
            inner.bus().is_none(),
            "the bin left its bus on the pipeline"
        );

        let pipeline = Pipeline::from_pipeline(inner);
        assert!(pipeline.gst().bus().is_some());
        pipeline.play().expect("play");
        pipeline
            .wait_timeout(Duration::from_secs(10))
            .expect("end of stream, seen on the new bus");
        // `from_element` goes the same way.
        let inner = gst::Pipeline::new();
        outer.add(&inner).expect("add to a bin");
        outer.remove(&inner).expect("remove from the bin");
        let pipeline = Pipeline::from_element(inner.upcast()).expect("from_element");
        assert!(pipeline.gst().bus().is_some());
    });
}

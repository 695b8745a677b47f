//! Fuzz-style property tests over launch descriptions and caps strings.
//!
//! Descriptions come from a token grammar (real and bogus element names, `!`, properties with
//! random values including garbage and unicode, caps filters such as
//! `video/x-raw,format=XXX,width=-1`, parentheses, quotes, brackets, name references), from
//! that grammar with random tokens spliced in, and from fully random strings. Each goes to
//! `Pipeline::launch`: a typed error, or a pipeline that is played briefly (bounded state
//! and wait timeouts) and dropped or stopped. Only pipelines made entirely of harmless
//! elements are played: nothing touching files, the network or devices; sources carry
//! `num-buffers` most of the time and are bounded by the timeouts otherwise.
//!
//! Caps strings go through `gst::Caps::from_str`, `gst_video::VideoInfo::from_caps` and
//! `gstpipe_frame::format_info` (and, when small enough, a zeroed `Frame`): no panic.
//!
//! 100 cases per property by default; `PROPTEST_CASES=N` overrides it.

use std::fmt::Debug;
use std::str::FromStr as _;
use std::time::Duration;

use gst::prelude::*;
use gstpipe_core::{Error, Outcome, Pipeline};
use proptest::prelude::*;
use proptest::strategy::ValueTree as _;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

use crate::util::bounded;

/// Cases per property unless `PROPTEST_CASES` says otherwise.
const DEFAULT_CASES: u32 = 100;

/// The default case count, overridden by `PROPTEST_CASES` (a manual `TestRunner` does not
/// read it by itself once `cases` is set). No failure persistence files.
fn config() -> Config {
    let mut config = Config {
        failure_persistence: None,
        ..Config::default()
    };
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = DEFAULT_CASES;
    }
    config
}

/// Runs `test` on values of `strategy` under [`config`], on a watchdog thread: a pipeline
/// that hangs fails the test instead of the suite. The limit is `secs_per_case` seconds per
/// case (at least a minute), so long runs with a large `PROPTEST_CASES` fit.
fn run<S, F>(secs_per_case: u64, strategy: impl FnOnce() -> S + Send + 'static, test: F)
where
    S: Strategy + 'static,
    S::Value: Debug,
    F: Fn(S::Value) -> Result<(), TestCaseError> + Send + 'static,
{
    let config = config();
    let limit = (u64::from(config.cases) * secs_per_case).max(60);
    bounded(limit, move || {
        gstpipe_core::init().expect("gst init");
        let mut runner = TestRunner::new(config);
        if let Err(e) = runner.run(&strategy(), test) {
            panic!("{e}");
        }
    });
}

/// Properties of an element and plausible values for each.
type Props = &'static [(&'static str, &'static [&'static str])];

/// Elements a generated pipeline may be played with, with the properties the grammar sets
/// on them and plausible values for each (garbage comes from [`prop_value`]). Left out on
/// purpose: properties that allocate without bound, sleep or spawn threads (`n-threads`,
/// `sleep-time`, `sizemax`, `throttle-time`, `max-threads`, `dump`), and `videorate`, which
/// aborts the process in GStreamer 1.22 on some zero framerates (`g_assert` in
/// `gst_video_rate_push_buffer`: `videotestsrc num-buffers=5 pattern=gamut ! videorate !
/// video/x-raw,format=NV12,width=18,height=31,framerate=0/97 ! appsink`).
const ELEMENTS: &[(&str, Props)] = &[
    (
        "videotestsrc",
        &[
            (
                "pattern",
                &["ball", "snow", "smpte", "0", "18", "black", "gamut"],
            ),
            ("is-live", &["true", "false"]),
            ("horizontal-speed", &["0", "-3", "100"]),
            ("animation-mode", &["frames", "running-time", "wall-time"]),
            ("foreground-color", &["0", "4294967295", "0xff00ff00"]),
        ],
    ),
    (
        "audiotestsrc",
        &[
            ("wave", &["sine", "square", "white-noise", "silence", "12"]),
            ("freq", &["440", "0", "20000"]),
            ("volume", &["0", "0.5", "1"]),
            ("is-live", &["true", "false"]),
            ("samplesperbuffer", &["1", "1024", "4800"]),
        ],
    ),
    (
        "fakesink",
        &[
            ("sync", &["true", "false"]),
            ("async", &["true", "false"]),
            ("silent", &["true", "false"]),
            ("qos", &["true", "false"]),
            ("max-lateness", &["-1", "0", "20000000"]),
            (
                "state-error",
                &[
                    "none",
                    "ready-to-paused",
                    "paused-to-playing",
                    "null-to-ready",
                ],
            ),
        ],
    ),
    (
        "identity",
        &[
            ("drop-probability", &["0", "0.5", "1"]),
            ("error-after", &["-1", "1", "2"]),
            ("eos-after", &["-1", "1", "3"]),
            ("single-segment", &["true", "false"]),
            ("sync", &["true", "false"]),
        ],
    ),
    (
        "queue",
        &[
            ("max-size-buffers", &["0", "1", "200"]),
            ("max-size-time", &["0", "1000000"]),
            ("leaky", &["no", "upstream", "downstream"]),
            ("min-threshold-buffers", &["0", "2"]),
        ],
    ),
    ("multiqueue", &[("max-size-buffers", &["1", "5"])]),
    (
        "tee",
        &[
            ("allow-not-linked", &["true", "false"]),
            ("pull-mode", &["never", "single"]),
        ],
    ),
    (
        "capsfilter",
        &[("caps-change-mode", &["immediate", "delayed"])],
    ),
    (
        "videoconvert",
        &[
            ("dither", &["none", "bayer", "floyd-steinberg"]),
            ("chroma-mode", &["full", "none"]),
            ("matrix-mode", &["full", "none"]),
        ],
    ),
    (
        "videoscale",
        &[
            ("method", &["nearest-neighbour", "bilinear", "lanczos", "9"]),
            ("add-borders", &["true", "false"]),
        ],
    ),
    (
        "videoflip",
        &[
            (
                "method",
                &["none", "clockwise", "rotate-180", "horizontal-flip", "auto"],
            ),
            ("video-direction", &["identity", "90r", "ur-ll"]),
        ],
    ),
    (
        "videobox",
        &[
            ("top", &["0", "1", "-7", "3"]),
            ("bottom", &["0", "2", "-5"]),
            ("left", &["0", "1", "-3"]),
            ("right", &["0", "4", "-9"]),
            ("fill", &["black", "green", "blue"]),
            ("border-alpha", &["0", "1"]),
        ],
    ),
    (
        "videocrop",
        &[
            ("top", &["0", "1", "5", "1000"]),
            ("bottom", &["0", "3"]),
            ("left", &["0", "1", "1000"]),
            ("right", &["0", "7"]),
        ],
    ),
    (
        "audioconvert",
        &[
            ("dithering", &["none", "rpdf", "tpdf"]),
            ("noise-shaping", &["none", "simple"]),
        ],
    ),
    ("audioresample", &[("quality", &["0", "4", "10"])]),
    (
        "appsink",
        &[
            ("max-buffers", &["0", "1", "2"]),
            ("drop", &["true", "false"]),
            ("sync", &["true", "false"]),
            ("emit-signals", &["true", "false"]),
            ("wait-on-eos", &["true", "false"]),
        ],
    ),
    (
        "appsrc",
        &[
            ("is-live", &["true", "false"]),
            ("format", &["time", "bytes"]),
            ("block", &["true", "false"]),
        ],
    ),
    ("funnel", &[]),
    ("valve", &[("drop", &["true", "false"])]),
    (
        "input-selector",
        &[("sync-mode", &["active-segment", "clock"])],
    ),
    (
        "compositor",
        &[("background", &["checker", "black", "transparent"])],
    ),
    ("audiomixer", &[]),
    (
        "rawvideoparse",
        &[
            ("width", &["1", "7", "320"]),
            ("height", &["1", "5", "240"]),
            ("format", &["rgb", "i420", "nv12", "gray8", "2"]),
            ("framerate", &["30/1", "0/1"]),
            ("plane-strides", &["<7>", "<0>", "<-1>", "<1,2,3>"]),
            ("plane-offsets", &["<0>", "<100000>", "<0,1,2>"]),
        ],
    ),
    ("jpegenc", &[("quality", &["0", "85", "100"])]),
    ("pngenc", &[("compression-level", &["0", "9"])]),
];

/// Links of the clean grammar's video, audio and plain chains, and their sinks.
const VIDEO_FILTERS: &[&str] = &[
    "videoconvert",
    "videoscale",
    "videoflip",
    "videobox",
    "videocrop",
    "identity",
    "queue",
    "valve",
    "jpegenc",
    "pngenc",
];
const AUDIO_FILTERS: &[&str] = &["audioconvert", "audioresample", "identity", "queue"];
const SINKS: &[&str] = &["fakesink", "appsink"];

/// Sources the grammar bounds with `num-buffers`. (`fakesrc` is left out of the whole grammar:
/// every element made bumps its factory's name counter, and `launch.rs` expects the next
/// `fakesrc` of this test binary to be `fakesrc0`.)
const SOURCES: &[&str] = &["videotestsrc", "audiotestsrc"];

/// Factories of elements a parsed pipeline may contain for it to be played.
fn is_safe_factory(name: &str) -> bool {
    name == "bin" || name == "pipeline" || ELEMENTS.iter().any(|(e, _)| *e == name)
}

/// Element names no plugin provides (checked at run time too).
const BOGUS: &[&str] = &[
    "nosuchelement",
    "videotestsrcc",
    "VIDEOTESTSRC",
    "vidéotestsrc",
    "fake-sink",
    "x",
    "0",
    "_",
    "élément",
    "😀src",
];

fn element_name() -> impl Strategy<Value = String> {
    prop_oneof![
        16 => prop::sample::select(ELEMENTS).prop_map(|(e, _)| e.to_owned()),
        1 => prop::sample::select(BOGUS).prop_map(str::to_owned),
        1 => "[a-z][a-z0-9-]{0,10}",
    ]
}

/// Names of every raw video format, as caps spell them.
fn format_names() -> Vec<String> {
    gstpipe_core::init().expect("gst init");
    gst_video::VideoFormat::iter_raw()
        .map(|f| f.to_str().to_string())
        .collect()
}

fn format_value() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(format_names()),
        1 => prop::sample::select(&[
            "XXX", "", "rgb", "ENCODED", "UNKNOWN", "DMA_DRM", "{RGB,I420}", "(string)RGB",
            "\"RGB\"", "{ }", "S16LE", "F32LE", "(int)3",
        ][..]).prop_map(str::to_owned),
    ]
}

/// Dimensions for caps a pipeline may negotiate: odd, zero, negative, ranges, garbage, but
/// never so large that a source would allocate gigabytes.
fn dim_value() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(&[
            "-1", "0", "1", "2", "3", "5", "7", "16", "320", "641", "4097", "2161", "abc",
            "[1,100]", "{2,3}", "(int)5", "(string)x", "1.5", "(int)[1,4097]", "(fraction)1/2",
            "\"7\"", "[ 0, 0 ]", "{}",
        ][..]).prop_map(str::to_owned),
        1 => (-10i32..700).prop_map(|v| v.to_string()),
    ]
}

fn fraction_value() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(
            &[
                "30/1",
                "0/1",
                "1/0",
                "-30/1",
                "25",
                "2147483647/1",
                "1/2147483647",
                "abc",
                "[0/1,30/1]",
                "{25/1,30/1}",
                "(fraction)30/1",
                "30/1/1",
            ][..]
        )
        .prop_map(str::to_owned),
        (-100i32..100, -3i32..100).prop_map(|(n, d)| format!("{n}/{d}")),
    ]
}

/// One `field=value` of a caps structure.
fn caps_field(dim: BoxedStrategy<String>) -> impl Strategy<Value = String> {
    let pick = |field: &'static str, values: &'static [&'static str]| {
        prop::sample::select(values).prop_map(move |v| format!("{field}={v}"))
    };
    prop_oneof![
        3 => format_value().prop_map(|v| format!("format={v}")),
        2 => dim.clone().prop_map(|v| format!("width={v}")),
        2 => dim.prop_map(|v| format!("height={v}")),
        1 => fraction_value().prop_map(|v| format!("framerate={v}")),
        1 => fraction_value().prop_map(|v| format!("pixel-aspect-ratio={v}")),
        1 => pick("interlace-mode", &["progressive", "interleaved", "mixed", "fields",
                                      "alternate", "bogus", ""]),
        1 => pick("colorimetry", &["bt709", "bt601", "sRGB", "bt2020", "1:4:0:0", "9:9:9:9",
                                   "garbage", ""]),
        1 => pick("chroma-site", &["mpeg2", "jpeg", "dv", "none", "bogus"]),
        1 => pick("multiview-mode", &["mono", "side-by-side", "top-bottom",
                                      "frame-by-frame", "separated", "bogus"]),
        1 => pick("views", &["0", "1", "2", "-1", "x"]),
        1 => pick("field-order", &["top-field-first", "bottom-field-first", "x"]),
        1 => pick("rate", &["44100", "0", "-1", "1", "x", "[1,2]"]),
        1 => pick("channels", &["1", "2", "0", "-1", "8", "x"]),
        1 => pick("layout", &["interleaved", "non-interleaved", "x"]),
        1 => "[a-z][a-z-]{0,6}=[a-zA-Z0-9/()\\[\\]{}\"-]{0,8}",
    ]
}

fn media_type() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => Just("video/x-raw".to_owned()),
        1 => prop::sample::select(&[
            "audio/x-raw", "video/x-raw(memory:SystemMemory)", "video/x-raw(ANY)",
            "video/x-raw(memory:GLMemory)", "image/jpeg", "video/x-h264", "x/y", "video/",
            "ANY", "EMPTY", "NONE", "", "video/x-raw(", "vidéo/x-raw",
        ][..]).prop_map(str::to_owned),
    ]
}

/// A caps string (no spaces, so it can stand as a link filter in a description).
fn caps_with(dim: BoxedStrategy<String>) -> impl Strategy<Value = String> {
    let structure =
        (media_type(), prop::collection::vec(caps_field(dim), 0..6)).prop_map(|(media, fields)| {
            std::iter::once(media)
                .chain(fields)
                .collect::<Vec<_>>()
                .join(",")
        });
    prop::collection::vec(structure, 1..=2).prop_map(|s| s.join(";"))
}

fn caps_string() -> impl Strategy<Value = String> {
    caps_with(dim_value().boxed())
}

/// Property values: plausible, boundary, garbage, quoted, unicode.
fn prop_value() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(&[
            "true", "false", "yes", "TRUE", "-1", "0", "1", "3", "100", "4097", "0.5", "-0.0",
            "99999999999999999999999", "1e400", "nan", "inf", "0x10", "ball", "snow", "smpte",
            "downstream", "no", "1/0", "{1,2}", "<1,2>", "[1,2]", "(int)5", "(string)x", "",
            "\"\"", "\"a b\"", "'x'", "\\", "=", "!", "é", "😀", "\u{feff}",
        ][..]).prop_map(str::to_owned),
        2 => (-1000i64..1000).prop_map(|v| v.to_string()),
        1 => "[a-zA-Z0-9_]{0,8}",
        1 => "\\PC{0,6}",
        1 => "\"[^\"\\\\]{0,10}\"",
        1 => caps_string().prop_map(|c| format!("\"{c}\"")),
    ]
}

fn property(element: &str) -> BoxedStrategy<String> {
    let real: Vec<(&'static str, &'static [&'static str])> = ELEMENTS
        .iter()
        .find(|(e, _)| *e == element)
        .map(|(_, props)| props.to_vec())
        .unwrap_or_default();
    let separator = prop_oneof![8 => Just("="), 1 => Just(" = "), 1 => Just("=="), 1 => Just("")];
    let garbage = (
        prop_oneof![
            Just("name".to_owned()),
            "[a-z][a-z-]{0,10}",
            Just("caps".to_owned()),
            Just("num_buffers".to_owned()),
        ],
        separator,
        prop_value(),
    )
        .prop_map(|(n, sep, v)| format!("{n}{sep}{v}"));
    if real.is_empty() {
        return garbage.boxed();
    }
    prop_oneof![
        3 => plausible_property(real.clone()),
        2 => (prop::sample::select(real), prop_value())
            .prop_map(|((n, _), v)| format!("{n}={v}")),
        1 => garbage,
    ]
    .boxed()
}

/// A real property with one of its plausible values.
fn plausible_property(
    props: Vec<(&'static str, &'static [&'static str])>,
) -> impl Strategy<Value = String> {
    prop::sample::select(props).prop_flat_map(|(name, values)| {
        prop::sample::select(values).prop_map(move |v| format!("{name}={v}"))
    })
}

/// An element with plausible properties only (`num-buffers` on sources).
fn clean_element(names: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::sample::select(names).prop_flat_map(|name| {
        let props: Vec<_> = ELEMENTS
            .iter()
            .find(|(e, _)| *e == name)
            .map(|(_, p)| p.to_vec())
            .unwrap_or_default();
        let props = if props.is_empty() {
            Just(Vec::new()).boxed()
        } else {
            prop::collection::vec(plausible_property(props), 0..3).boxed()
        };
        let bound = if SOURCES.contains(&name) {
            (1i32..=10)
                .prop_map(|n| format!(" num-buffers={n}"))
                .boxed()
        } else {
            Just(String::new()).boxed()
        };
        (bound, props).prop_map(move |(bound, props)| {
            let mut out = format!("{name}{bound}");
            for p in props {
                out.push(' ');
                out.push_str(&p);
            }
            out
        })
    })
}

/// Plausible caps for a link: valid formats and sizes mostly, odd and negative ones too.
fn clean_video_caps() -> impl Strategy<Value = String> {
    let format = prop_oneof![
        4 => prop::sample::select(&["RGB", "I420", "NV12", "GRAY8", "BGRx", "YUY2", "GRAY16_BE", "v210", "RGB16", "Y444_10LE"][..]).prop_map(str::to_owned),
        1 => format_value(),
    ];
    let dim = prop_oneof![
        4 => (1i32..=64).prop_map(|v| v.to_string()),
        1 => dim_value(),
    ];
    (format, dim.clone(), dim, prop::option::of(fraction_value())).prop_map(|(f, w, h, fps)| {
        let mut caps = format!("video/x-raw,format={f},width={w},height={h}");
        if let Some(fps) = fps {
            caps.push_str(",framerate=");
            caps.push_str(&fps);
        }
        caps
    })
}

/// A clean chain: source ! filters / caps ! sink, video or audio, sometimes through a tee.
fn clean_description() -> impl Strategy<Value = String> {
    let video_link = prop_oneof![
        3 => clean_element(VIDEO_FILTERS),
        2 => clean_video_caps(),
        1 => clean_video_caps().prop_map(|c| format!("capsfilter caps=\"{c}\"")),
    ];
    let video = (
        clean_element(&["videotestsrc"]),
        prop::collection::vec(video_link, 0..4),
        clean_element(SINKS),
    );
    let audio_link = prop_oneof![
        3 => clean_element(AUDIO_FILTERS),
        1 => (
            prop::sample::select(&["S16LE", "F32LE", "U8", "XXX"][..]),
            prop::sample::select(&["8000", "44100", "1", "0"][..]),
            prop::sample::select(&["1", "2", "0", "8"][..]),
        )
            .prop_map(|(f, r, c)| format!("audio/x-raw,format={f},rate={r},channels={c}")),
    ];
    let audio = (
        clean_element(&["audiotestsrc"]),
        prop::collection::vec(audio_link, 0..3),
        clean_element(SINKS),
    );
    let plain = (
        clean_element(&["videotestsrc", "audiotestsrc"]),
        prop::collection::vec(clean_element(&["identity", "queue", "valve"]), 0..3),
        clean_element(&["fakesink"]),
    );
    let chain = prop_oneof![4 => video, 2 => audio, 1 => plain].prop_map(|(src, links, sink)| {
        std::iter::once(src)
            .chain(links)
            .chain(std::iter::once(sink))
            .collect::<Vec<_>>()
            .join(" ! ")
    });
    let tee = (clean_element(SINKS), clean_element(SINKS)).prop_map(|(a, b)| {
        format!(
            "videotestsrc num-buffers=3 ! tee name=t t. ! queue ! {a} t. ! queue ! videoconvert ! {b}"
        )
    });
    prop_oneof![6 => chain, 1 => tee]
}

/// An element with properties; sources usually bounded by `num-buffers`.
fn element() -> impl Strategy<Value = String> {
    element_name().prop_flat_map(|name| {
        let bound = if SOURCES.contains(&name.as_str()) {
            prop_oneof![
                8 => (1i32..=10).prop_map(|n| format!(" num-buffers={n}")),
                1 => Just(" num-buffers=-1".to_owned()),
                1 => Just(String::new()),
            ]
            .boxed()
        } else {
            Just(String::new()).boxed()
        };
        let props = prop::collection::vec(property(&name), 0..3);
        (Just(name), bound, props).prop_map(|(name, bound, props)| {
            let mut out = name + &bound;
            for p in props {
                out.push(' ');
                out.push_str(&p);
            }
            out
        })
    })
}

/// One link of a chain: an element, a caps filter, a small bin, or a name reference.
fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => element(),
        2 => caps_string(),
        1 => (element(), element()).prop_map(|(a, b)| format!("( {a} ! {b} )")),
        1 => element().prop_map(|a| format!("bin.( {a} )")),
        1 => prop::sample::select(&["t.", "t. ", "t.src_0", "nonexistent.", ".", "t.sink"][..])
            .prop_map(str::to_owned),
        1 => element().prop_map(|e| format!("{e} name=t")),
    ]
}

fn link() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        12 => Just(" ! "),
        1 => Just("!"),
        1 => Just(" !! "),
        1 => Just(" "),
        1 => Just(", "),
        1 => Just(" ! ! "),
        1 => Just(" → "),
    ]
}

/// Random tokens spliced into a description.
fn noise() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(&[
            "(", ")", "[", "]", "{", "}", "\"", "'", "!", "=", ",", ".", ";", "\\", ":", "#",
            "é", "😀", " ", "name=", "t.", "$", "%s", "\u{0}",
        ][..]).prop_map(str::to_owned),
        1 => "\\PC{1,3}",
    ]
}

/// A description: a clean chain (which usually plays), the loose grammar, either with noise
/// spliced in.
fn grammar_description() -> impl Strategy<Value = String> {
    let loose = loose_description();
    (prop_oneof![3 => clean_description(), 2 => loose], splice()).prop_map(|(d, s)| s.apply(d))
}

/// Random tokens to insert at random places (applied to a quarter of the descriptions).
#[derive(Debug, Clone)]
struct Splice(Vec<(prop::sample::Index, String)>);

impl Splice {
    fn apply(self, mut out: String) -> String {
        for (at, token) in self.0 {
            let mut pos = at.index(out.len() + 1);
            while !out.is_char_boundary(pos) {
                pos -= 1;
            }
            out.insert_str(pos, &token);
        }
        out
    }
}

fn splice() -> impl Strategy<Value = Splice> {
    prop_oneof![
        3 => Just(Splice(Vec::new())),
        1 => prop::collection::vec((any::<prop::sample::Index>(), noise()), 1..3).prop_map(Splice),
    ]
}

/// Loose grammar: any segments, links and chains.
fn loose_description() -> impl Strategy<Value = String> {
    let chain =
        (segment(), prop::collection::vec((link(), segment()), 0..5)).prop_map(|(first, rest)| {
            let mut out = first;
            for (l, s) in rest {
                out.push_str(l);
                out.push_str(&s);
            }
            out
        });
    // Several chains in one description, as gst-launch allows (`a ! b  c ! d`).
    prop::collection::vec(chain, 1..=2).prop_map(|chains| chains.join("  "))
}

/// Fully random strings: any unicode, printable ASCII, and real tokens in random order.
fn random_description() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        prop::sample::select(ELEMENTS).prop_map(|(e, _)| e.to_owned()),
        noise(),
        prop_value(),
        Just("!".to_owned()),
    ];
    prop_oneof![
        any::<String>(),
        "[ -~]{0,80}",
        prop::collection::vec(token, 0..12).prop_map(|t| t.join(" ")),
        prop::collection::vec(any::<char>(), 0..40).prop_map(|c| c.into_iter().collect()),
    ]
}

/// The factory of the first element in `pipeline` that is not on the safe list.
fn unsafe_element(pipeline: &Pipeline) -> Option<String> {
    let mut it = pipeline.gst().iterate_recurse();
    loop {
        match it.next() {
            Ok(Some(element)) => {
                let factory = element
                    .factory()
                    .map(|f| f.name().to_string())
                    .unwrap_or_default();
                if !is_safe_factory(&factory) {
                    return Some(factory);
                }
            }
            Ok(None) => return None,
            Err(gst::IteratorError::Resync) => it.resync(),
            Err(gst::IteratorError::Error) => return Some("<iterator error>".to_owned()),
        }
    }
}

/// Launches `description`; plays it briefly when it builds from harmless elements.
fn check_launch(description: &str, stop: bool) -> Result<(), TestCaseError> {
    let mut pipeline = match Pipeline::launch(description) {
        Ok(pipeline) => pipeline,
        Err(e) => {
            let typed = match &e {
                Error::Parse {
                    description: d,
                    message,
                } => d == description && !message.is_empty(),
                // Named factories must really be missing (not an element whose property
                // could not be set).
                Error::MissingElement {
                    description: d,
                    factory,
                } => {
                    d == description && gst::ElementFactory::make(factory.as_str()).build().is_err()
                }
                _ => false,
            };
            prop_assert!(typed, "launch({:?}) gave {:?}", description, e);
            prop_assert!(!e.to_string().is_empty());
            return Ok(());
        }
    };
    if unsafe_element(&pipeline).is_some() {
        // Parsed into something that may touch files, devices or the network: not played.
        return Ok(());
    }
    pipeline
        .set_state_timeout(Duration::from_millis(300))
        .set_stop_timeout(Duration::from_millis(300));
    match pipeline.play() {
        Ok(()) | Err(Error::Element(_) | Error::StateChange { .. } | Error::Timeout { .. }) => {}
        Err(e) => prop_assert!(false, "play({:?}) gave {:?}", description, e),
    }
    match pipeline.wait_timeout(Duration::from_millis(150)) {
        Ok(()) => prop_assert_eq!(pipeline.outcome(), Some(Outcome::Eos)),
        Err(Error::Element(e)) => {
            prop_assert_eq!(pipeline.outcome(), Some(Outcome::Error(e.clone())));
            prop_assert!(!e.to_string().is_empty());
        }
        Err(Error::Timeout { .. }) => {}
        Err(e) => prop_assert!(false, "wait({:?}) gave {:?}", description, e),
    }
    if stop {
        match pipeline.stop() {
            Ok(()) | Err(Error::Element(_) | Error::Timeout { .. } | Error::Stopped { .. }) => {}
            Err(e) => prop_assert!(false, "stop({:?}) gave {:?}", description, e),
        }
        prop_assert!(pipeline.is_done());
    }
    drop(pipeline);
    Ok(())
}

#[test]
fn grammar_descriptions_launch_or_fail_typed() {
    run(
        3,
        || (grammar_description(), any::<bool>()),
        |(description, stop)| check_launch(&description, stop),
    );
}

#[test]
fn random_descriptions_launch_or_fail_typed() {
    run(
        3,
        || (random_description(), any::<bool>()),
        |(description, stop)| check_launch(&description, stop),
    );
}

/// Caps from any string down to a frame: typed errors only.
fn check_caps(text: &str) -> Result<(), TestCaseError> {
    let Ok(caps) = gst::Caps::from_str(text) else {
        return Ok(());
    };
    let Ok(info) = gst_video::VideoInfo::from_caps(&caps) else {
        return Ok(());
    };
    let format = info.format();
    let described = gstpipe_frame::format_info(format);
    match &described {
        Ok(fi) => {
            prop_assert_eq!(fi.format(), format);
            prop_assert_eq!(fi.n_planes(), info.n_planes() as usize);
        }
        Err(gstpipe_frame::FrameError::UnknownFormat { .. }) => {
            prop_assert!(
                matches!(
                    format,
                    gst_video::VideoFormat::Encoded | gst_video::VideoFormat::Unknown
                ),
                "{:?} not described",
                format
            );
        }
        Err(e) => prop_assert!(false, "format_info({:?}): {:?}", format, e),
    }
    // A zeroed buffer of the size the caps give, as a sample: maps, or a typed error.
    if info.size() > 16 << 20 {
        return Ok(());
    }
    let buffer = gst::Buffer::with_size(info.size()).expect("buffer");
    let sample = gst::Sample::builder().caps(&caps).buffer(&buffer).build();
    // Caps like `width=-1` still give a VideoInfo, one that is not valid.
    let mappable = described.is_ok() && info.is_valid();
    match gstpipe_frame::Frame::from_sample(&sample) {
        Ok(frame) => {
            prop_assert!(mappable, "mapped {:?}", info);
            for p in 0..frame.n_planes() {
                prop_assert!(frame.plane_bytes(p).is_ok(), "plane_bytes({})", p);
            }
            let _ = frame.planes_to_arrays::<u8>();
            let _ = frame.planes_to_arrays::<u16>();
            let _ = frame.to_image();
        }
        Err(e) => {
            prop_assert!(!mappable, "caps {:?} ({:?}) gave {:?}", text, info, e);
        }
    }
    Ok(())
}

/// Caps strings with any dimension, huge ones included (nothing is allocated for them).
fn caps_fuzz() -> impl Strategy<Value = String> {
    let dim = prop_oneof![
        4 => (1i32..=100).prop_map(|v| v.to_string()),
        3 => dim_value(),
        1 => prop::sample::select(&[
            "2147483647", "-2147483648", "4294967295", "65536", "1073741824",
        ][..]).prop_map(str::to_owned),
        1 => any::<i32>().prop_map(|v| v.to_string()),
    ]
    .boxed();
    // Raw video caps with every field a VideoInfo needs, and a few more, odd values included.
    let extra = caps_field(dim.clone());
    let well_formed = (
        prop::sample::select(format_names()),
        dim.clone(),
        dim.clone(),
        prop::collection::vec(extra, 0..4),
    )
        .prop_map(|(f, w, h, extra)| {
            let mut caps = format!("video/x-raw,format={f},width={w},height={h}");
            for field in extra {
                caps.push(',');
                caps.push_str(&field);
            }
            caps
        });
    prop_oneof![
        6 => well_formed,
        3 => caps_with(dim),
        1 => any::<String>(),
        1 => "[ -~]{0,60}",
    ]
}

#[test]
fn caps_strings_never_panic() {
    run(1, caps_fuzz, |text| check_caps(&text));
}

// ---------------------------------------------------------------------------------------
// Regressions the properties found, as plain tests.

/// glib panics (debug builds) on a NUL inside a C string; release builds cut the
/// description there.
#[test]
fn nul_in_a_description_is_a_parse_error() {
    let err = Pipeline::launch("videotestsrc\0 ! fakesink").unwrap_err();
    assert!(
        matches!(&err, Error::Parse { message, .. } if message.contains("NUL")),
        "{err:?}"
    );
}

/// GStreamer lists elements whose property could not be set among the "missing" ones:
/// they were reported as `no element "videotestsrc"`.
#[test]
fn bad_property_is_a_parse_error_not_a_missing_element() {
    for (description, word) in [
        ("videotestsrc n=3 ! fakesink", "\"n\""),
        ("audiotestsrc wave=1/0 ! fakesink", "wave"),
    ] {
        let err = Pipeline::launch(description).unwrap_err();
        assert!(
            matches!(&err, Error::Parse { message, .. } if message.contains(word)),
            "{description}: {err:?}"
        );
    }
    let err = Pipeline::launch("videotestsrc n=3 ! nosuchelement").unwrap_err();
    assert!(
        matches!(&err, Error::MissingElement { factory, .. } if factory == "nosuchelement"),
        "{err:?}"
    );
}

/// `stop()` hung forever when a source's streaming thread was blocked downstream (an appsink
/// nobody drains holding back EOS, or a full appsink queue): the EOS event it sends could
/// not be delivered, and going to Null waited for it.
#[test]
fn stop_returns_when_an_appsink_is_not_drained() {
    bounded(60, || {
        for description in [
            "videotestsrc num-buffers=1 ! appsink",
            "videotestsrc ! appsink max-buffers=1",
            "videotestsrc ! queue ! appsink max-buffers=1",
            "videotestsrc num-buffers=3 ! tee name=t t. ! queue ! appsink t. ! queue ! fakesink",
        ] {
            let mut pipeline = Pipeline::launch(description).expect("launch");
            pipeline.set_stop_timeout(Duration::from_millis(300));
            // Play returns once a frame prerolled in the appsink: its queue is in use.
            pipeline.play().expect("play");
            // Nothing failed: stop ends the pipeline within its bounded time and says Ok.
            let result = pipeline.stop();
            assert!(result.is_ok(), "{description}: {result:?}");
            assert!(pipeline.is_done());
            assert_eq!(pipeline.gst().current_state(), gst::State::Null);
        }
    });
}

/// GStreamer 1.22's parser dereferences a null pointer when links name references and the
/// top level has no element: these crashed the process.
#[test]
fn reference_only_descriptions_do_not_crash() {
    for description in [
        "t. ! t.",
        "t.!o/E!t.",
        "t. ! video/x-raw ! u.",
        "nosuch t. ! t.",
        ", t. ! t.",
        "= t. ! t.",
        "t. ! t. nosuch",
        "t. ! t. \u{e86} tee",
        "t.src_0 ! video/x-raw,format=RGBA64_BE{,height=1.5 ! t.src_0 ! \u{e86}Z\\! tee",
        "t.",
        "pipeline. ! t.",
        "u.:a./",
        "t.!identity)!",
        "pipeline.( t.!identity)! )",
        "t.src_0 ! videoflip ! input-selector sync-mode=-846 ! video/x-raw,layout=non-interleaved;video/x-raw,height=528,c=}][f))\"),multiview-mode=top-bottom,i-a-n-=Gn0,chroma-site=dv identity sync=false eos-after=1  ( funnel ! rawvideoparse height=\"3\n\u{a256a}4\n\u{a5}\u{b}\" ) ! rawvideoparse plane-offsets=qWhIzv0 height=1 ! videocrop bottom=0 top=5 ! videobox !! appsink wait-on-eos=true caps = -950",
        "EO\\3J1g6Z`$+=V.:]'k?,z],ibjp_\"Hu.:a.oEl2/`|Hah$9E NT/S`&$`bTRW8&:/",
    ] {
        let err = Pipeline::launch(description).unwrap_err();
        assert!(
            matches!(err, Error::Parse { .. } | Error::MissingElement { .. }),
            "{description}: {err:?}"
        );
    }
    // An unresolved name is no missing plugin.
    let err = Pipeline::launch("tee name=x t. ! fakesink").unwrap_err();
    assert!(
        matches!(&err, Error::Parse { message, .. } if message.contains("\"t\"")),
        "{err:?}"
    );
}

/// Descriptions with references are parsed behind an anchor element that is removed again:
/// the pipeline plays as without it (elements directly inside it, a user's own
/// `pipeline.( )` used as it is). `guard.rs` compares the structure with GStreamer's own.
#[test]
fn descriptions_with_references_give_the_same_pipeline() {
    bounded(30, || {
        let pipeline = Pipeline::launch(
            "videotestsrc num-buffers=3 ! tee name=t t. ! queue ! fakesink t. ! queue ! fakesink",
        )
        .expect("launch");
        assert_eq!(pipeline.gst().children().len(), 6);
        assert!(pipeline.by_name("t").is_some());
        pipeline.play().expect("play");
        pipeline.wait_timeout(Duration::from_secs(10)).expect("eos");

        let pipeline = Pipeline::launch(
            "pipeline. ( name=mine videotestsrc num-buffers=1 ! tee name=t t. ! fakesink )",
        )
        .expect("launch");
        assert_eq!(pipeline.name(), "mine");
        assert_eq!(pipeline.gst().children().len(), 3);
        pipeline.play().expect("play");
        pipeline.wait_timeout(Duration::from_secs(10)).expect("eos");
    });
}

/// `Pipeline::launch` against GStreamer's parser alone (run in a child process, where it may
/// crash) on generated descriptions, name references included: the same rejections with the
/// same messages, a typed error where GStreamer crashes, and the same pipeline (elements,
/// properties, links) where it accepts.
#[test]
fn generated_descriptions_parse_as_gstreamer_parses_them() {
    gstpipe_core::init().expect("gst init");
    let config = config();
    let mut runner = TestRunner::new(config.clone());
    let strategy = prop_oneof![
        2 => grammar_description(),
        1 => random_description(),
        // References in element position, in front and after a syntax error.
        1 => (prop::sample::select(&["", ", ", "nosuchelement ", "= ", "t. ", "! "][..]), grammar_description())
            .prop_map(|(lead, d)| format!("{lead}{d} t. ! t.")),
        // Mostly references, links and things that make no element, so that the top level
        // is often empty (GStreamer crashes) and sometimes not.
        2 => prop::collection::vec(prop::sample::select(&[
            "t.", "t.src_0", "u.", "u.sink", "b.", "nosuchelement", ",", "=", "!", "!!", "(", ")",
            "! video/x-raw !", ".src", "tee name=t", "fakesink name=u", "identity name=u",
            "bin.( name=b", "( name=b", "fakesrc", "x=y", "\"", "file:///nonexistent",
        ][..]), 1..8).prop_map(|t| t.join(" ")),
    ];
    let mut descriptions = Vec::new();
    while descriptions.len() < 3 * config.cases as usize {
        let description = strategy
            .new_tree(&mut runner)
            .expect("generate a description")
            .current();
        // A NUL is rejected before GStreamer sees it (tested above).
        if !description.contains('\0') {
            descriptions.push(description);
        }
    }
    let compared = crate::guard::compare(&descriptions);
    eprintln!(
        "{} descriptions: GStreamer's parser crashed on {}, built {}",
        descriptions.len(),
        compared.crashed,
        compared.built
    );
    for other in &compared.other_crashes {
        eprintln!("GStreamer aborts, with or without the guard, on {other}");
    }
    let bad = compared.mismatches;
    assert!(
        bad.is_empty(),
        "{} of {} descriptions differ:\n{}",
        bad.len(),
        descriptions.len(),
        bad.join("\n")
    );
}

//! Where a file comes from (path or URI) and the pipeline pieces every reader shares:
//! decoding with `uridecodebin`, watching the bus, running a scan to its end with a bound.

use crate::error::MediaError;
use gst::glib;
use gst::prelude::*;
use gstpipe_core::sync::{Signal, Unpoisoned as _};
use gstpipe_core::{BusEvent, ElementError, Pipeline};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A file named by path or URI, resolved once.
#[derive(Debug, Clone)]
pub(crate) struct Location {
    /// The URI GStreamer reads.
    pub uri: String,
    /// The local file, when it is one (for the index cache).
    pub path: Option<PathBuf>,
    /// Which video stream of the file is read (0: the first).
    pub video_stream: usize,
}

impl Location {
    /// A URI (`scheme://...`) is taken as it is; anything else is a path that must exist.
    pub fn resolve(input: &str) -> Result<Location, MediaError> {
        gstpipe_core::init()?;
        if let Some((scheme, _)) = input.split_once("://")
            && !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        {
            if let Err(e) = gst::Element::make_from_uri(gst::URIType::Src, input, None) {
                return Err(MediaError::Uri {
                    input: input.into(),
                    reason: format!("no GStreamer source handles it ({e})"),
                });
            }
            let path = if scheme.eq_ignore_ascii_case("file") {
                Some(
                    glib::filename_from_uri(input)
                        .map_err(|e| MediaError::Uri {
                            input: input.into(),
                            reason: e.to_string(),
                        })?
                        .0,
                )
            } else {
                None
            };
            if let Some(path) = &path {
                check_readable(path, input)?;
            }
            return Ok(Location {
                uri: input.into(),
                path,
                video_stream: 0,
            });
        }
        let path = PathBuf::from(input);
        check_readable(&path, input)?;
        let path = path.canonicalize().map_err(|e| MediaError::Open {
            path: input.into(),
            reason: e.to_string(),
        })?;
        let uri = glib::filename_to_uri(&path, None).map_err(|e| MediaError::Uri {
            input: input.into(),
            reason: e.to_string(),
        })?;
        Ok(Location {
            uri: uri.to_string(),
            path: Some(path),
            video_stream: 0,
        })
    }

    /// `(size, modification time)` of the local file: part of the index cache's key.
    pub fn stamp(&self) -> Option<(u64, std::time::SystemTime)> {
        let meta = std::fs::metadata(self.path.as_ref()?).ok()?;
        Some((meta.len(), meta.modified().ok()?))
    }
}

fn check_readable(path: &std::path::Path, input: &str) -> Result<(), MediaError> {
    let meta = std::fs::metadata(path).map_err(|e| MediaError::Open {
        path: input.into(),
        reason: e.to_string(),
    })?;
    if meta.is_dir() {
        return Err(MediaError::Open {
            path: input.into(),
            reason: "it is a directory".into(),
        });
    }
    // A FIFO, socket or device would block the scan forever (or be read only once): the
    // reader seeks and reads a file more than once.
    if !meta.is_file() {
        #[cfg(unix)]
        let what = {
            use std::os::unix::fs::FileTypeExt as _;
            let kind = meta.file_type();
            if kind.is_fifo() {
                "a FIFO (named pipe)"
            } else if kind.is_socket() {
                "a socket"
            } else if kind.is_char_device() || kind.is_block_device() {
                "a device"
            } else {
                "not a regular file"
            }
        };
        #[cfg(not(unix))]
        let what = "not a regular file";
        return Err(MediaError::Open {
            path: input.into(),
            reason: format!("it is {what}; the reader needs a regular file it can seek in"),
        });
    }
    Ok(())
}

/// What a pipeline's bus said: the first error, whether it reached its end, how many
/// warnings; and a [`Signal`] for threads waiting on it (notified by every sample, end and
/// error).
#[derive(Debug, Default)]
pub(crate) struct BusLog {
    error: Mutex<Option<ElementError>>,
    ended: AtomicBool,
    /// Shared with the reader: warnings of every pipeline it ran.
    pub warnings: Arc<AtomicU64>,
    pub wake: Arc<Signal>,
    subscription: Mutex<Option<gstpipe_core::Subscription>>,
}

impl BusLog {
    pub fn new(warnings: Arc<AtomicU64>) -> Arc<BusLog> {
        Arc::new(BusLog {
            warnings,
            ..BusLog::default()
        })
    }

    /// Listens to `pipeline`'s bus through its watch. Unlike the pipeline's own outcome, an
    /// error or an end of stream is heard every time (a reader seeks back after EOS).
    pub fn attach(self: &Arc<Self>, pipeline: &Pipeline) {
        let log = Arc::clone(self);
        let subscription = pipeline.watch().subscribe_bus(move |event| {
            match event {
                BusEvent::Error(error) => {
                    let mut slot = log.error.lock_unpoisoned();
                    slot.get_or_insert_with(|| error.clone());
                }
                BusEvent::Eos => log.ended.store(true, Ordering::Release),
                _ => {}
            }
            log.wake.notify();
        });
        *self.subscription.lock_unpoisoned() = Some(subscription);
        let warnings = Arc::clone(&self.warnings);
        pipeline.on_message(move |msg| {
            if let gst::MessageView::Warning(_) = msg.view() {
                warnings.fetch_add(1, Ordering::Relaxed);
            }
        });
    }

    pub fn error(&self) -> Option<ElementError> {
        self.error.lock_unpoisoned().clone()
    }

    /// Whether an end of stream was posted.
    pub fn ended(&self) -> bool {
        self.ended.load(Ordering::Acquire)
    }
}

/// Maps a core error to a media error naming the file.
pub(crate) fn pipeline_error(uri: &str, e: gstpipe_core::Error) -> MediaError {
    match e {
        gstpipe_core::Error::Element(error) => MediaError::Element {
            uri: uri.into(),
            error: Box::new(error),
        },
        other => MediaError::Pipeline(other),
    }
}

pub(crate) fn make(factory: &str) -> Result<gst::Element, MediaError> {
    gst::ElementFactory::make(factory).build().map_err(|_| {
        MediaError::Pipeline(gstpipe_core::Error::MissingElement {
            factory: factory.into(),
            description: format!("the reader's pipeline needs {factory}"),
        })
    })
}

/// The caps of a new pad, negotiated or possible.
pub(crate) fn pad_caps(pad: &gst::Pad) -> Option<gst::Caps> {
    pad.current_caps().or_else(|| Some(pad.query_caps(None)))
}

/// Whether caps describe a video stream (`video/...` or `image/...`).
pub(crate) fn is_video(caps: &gst::CapsRef) -> bool {
    caps.structure(0).is_some_and(|s| {
        let name = s.name();
        name.starts_with("video/") || name.starts_with("image/")
    })
}

/// One stream of a file, as a scan saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamEntry {
    /// `video`, `audio`, `text` (subtitles) or `other`.
    pub kind: String,
    /// Short codec name (see [`codec_name`]).
    pub codec: String,
}

impl StreamEntry {
    pub(crate) fn of(caps: Option<&gst::Caps>) -> StreamEntry {
        let name = caps
            .and_then(|c| c.structure(0))
            .map(|s| s.name().to_string())
            .unwrap_or_default();
        let kind = if caps.is_some_and(|c| is_video(c)) {
            "video"
        } else if name.starts_with("audio/") {
            "audio"
        } else if name.starts_with("text/") || name.starts_with("subpicture/") {
            "text"
        } else {
            "other"
        };
        let codec = match caps.and_then(|c| c.structure(0)) {
            Some(s) if s.name() == "video/mpeg" => match s.get::<i32>("mpegversion") {
                Ok(v) => format!("mpeg{v}"),
                Err(_) => "mpeg".into(),
            },
            Some(s) if s.name() == "audio/mpeg" => match s.get::<i32>("mpegversion") {
                Ok(1) => "mp3".into(),
                Ok(2 | 4) => "aac".into(),
                _ => "audio/mpeg".into(),
            },
            _ => codec_name(&name),
        };
        StreamEntry {
            kind: kind.into(),
            codec,
        }
    }
}

/// What [`link_streams`] saw.
#[derive(Debug, Default)]
pub(crate) struct Streams {
    /// A stream appeared.
    pub exposed: AtomicBool,
    /// The wanted video stream was linked.
    pub video: AtomicBool,
    /// Which video stream to link (0: the first).
    pub wanted: usize,
    /// Every stream, in the order they appeared (parsebin and decodebin expose video
    /// streams first, each kind in the container's order).
    pub seen: Mutex<Vec<StreamEntry>>,
}

impl Streams {
    pub fn wanting(video_stream: usize) -> Arc<Streams> {
        Arc::new(Streams {
            wanted: video_stream,
            ..Streams::default()
        })
    }

    /// How many video streams appeared.
    pub fn videos(&self) -> usize {
        self.seen
            .lock_unpoisoned()
            .iter()
            .filter(|s| s.kind == "video")
            .count()
    }
}

/// Links every stream a decodebin or parsebin exposes: the wanted video stream to `video`
/// (added to the pipeline then if it is not in it yet), the others into `fakesink`s so they
/// do not stop the pipeline with not-linked.
pub(crate) fn link_streams(bin: &gst::Element, video: &gst::Element, streams: Arc<Streams>) {
    let video = video.downgrade();
    bin.connect_pad_added(move |bin, pad| {
        streams.exposed.store(true, Ordering::Release);
        let Some(video) = video.upgrade() else { return };
        let caps = pad_caps(pad);
        let entry = StreamEntry::of(caps.as_ref());
        let video_number = {
            let mut seen = streams.seen.lock_unpoisoned();
            let n = seen.iter().filter(|s| s.kind == "video").count();
            let is_video = entry.kind == "video";
            seen.push(entry);
            is_video.then_some(n)
        };
        if video_number == Some(streams.wanted) && !streams.video.swap(true, Ordering::AcqRel) {
            // A scan's sink joins the pipeline only now: a sink that is never linked would
            // keep a file without video from prerolling and ending.
            if video.parent().is_none()
                && let Some(parent) = bin.parent().and_then(|p| p.downcast::<gst::Bin>().ok())
            {
                if let Err(e) = parent.add(&video) {
                    tracing::warn!("cannot add the video sink: {e}");
                }
                let _ = video.sync_state_with_parent();
            }
            if let Some(sink) = video.static_pad("sink")
                && let Err(e) = pad.link(&sink)
            {
                tracing::warn!(pad = %pad.name(), "cannot link the video stream: {e:?}");
            }
            return;
        }
        let Some(parent) = bin.parent().and_then(|p| p.downcast::<gst::Bin>().ok()) else {
            return;
        };
        let Ok(sink) = gst::ElementFactory::make("fakesink")
            .property("sync", false)
            .property("async", false)
            .build()
        else {
            return;
        };
        if parent.add(&sink).is_ok() {
            let _ = sink.sync_state_with_parent();
            if let Some(sinkpad) = sink.static_pad("sink") {
                let _ = pad.link(&sinkpad);
            }
        }
        tracing::debug!(pad = %pad.name(), caps = ?caps, "stream not read");
    });
}

/// Stops `uridecodebin` from decoding what the reader never reads (audio, subtitles).
pub(crate) fn skip_non_video(decodebin: &gst::Element) {
    decodebin.connect("autoplug-continue", false, |args| {
        let caps = args.get(2).and_then(|v| v.get::<gst::Caps>().ok());
        let keep = caps
            .as_ref()
            .and_then(|c| c.structure(0))
            .map(|s| {
                let name = s.name();
                !["audio/", "text/", "subpicture/", "closedcaption/"]
                    .iter()
                    .any(|p| name.starts_with(p))
            })
            .unwrap_or(true);
        Some(keep.to_value())
    });
}

/// Plays `pipeline` until EOS. Bounded: gives up when `progress` (a counter the pipeline's
/// probes advance) has not moved for `stall`. Sleeps until the end, an error or the stall
/// deadline (woken by the bus through `log`), not in slices.
pub(crate) fn run_to_eos(
    pipeline: &Pipeline,
    log: &BusLog,
    progress: &AtomicU64,
    stall: Duration,
    uri: &str,
    operation: &'static str,
) -> Result<(), MediaError> {
    pipeline.play().map_err(|e| pipeline_error(uri, e))?;
    let mut seen = progress.load(Ordering::Relaxed);
    let mut since = Instant::now();
    loop {
        let generation = log.wake.generation();
        if let Some(error) = log.error() {
            return Err(MediaError::Element {
                uri: uri.into(),
                error: Box::new(error),
            });
        }
        if log.ended() {
            return Ok(());
        }
        let now = progress.load(Ordering::Relaxed);
        if now != seen {
            seen = now;
            since = Instant::now();
        } else if since.elapsed() >= stall {
            return Err(MediaError::Timeout {
                uri: uri.into(),
                operation,
                waited: since.elapsed(),
            });
        }
        log.wake.wait_past(generation, since + stall);
    }
}

/// A short name for a codec's caps: `h264`, `h265`, `vp8`, `vp9`, `av1`, `mjpeg`, ...; the
/// caps name itself for others.
pub fn codec_name(caps_name: &str) -> String {
    match caps_name {
        "video/x-h264" => "h264",
        "video/x-h265" => "h265",
        "video/x-vp8" => "vp8",
        "video/x-vp9" => "vp9",
        "video/x-av1" => "av1",
        "image/jpeg" => "mjpeg",
        "image/png" => "png",
        "video/x-raw" => "raw",
        "video/x-theora" => "theora",
        "video/x-divx" | "video/x-xvid" => "mpeg4",
        "video/mpeg" => "mpeg",
        other => other,
    }
    .to_string()
}

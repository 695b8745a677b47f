//! The frame index: every frame's presentation timestamp, in presentation order, and which
//! frames are keyframes. Built by a parse-only scan (no decoding) or, when that cannot be
//! trusted, by a decoding scan; cached per file.

use crate::error::MediaError;
use crate::location::{
    BusLog, Location, StreamEntry, Streams, link_streams, make, run_to_eos, skip_non_video,
};
use crate::order::{MpegVideo, Picture};
use gst::prelude::*;
use gstpipe_core::Pipeline;
use gstpipe_core::sync::Unpoisoned as _;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// How a reader builds its frame index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum IndexMode {
    /// A parse-only scan (demuxer and parser, no decoder), falling back to a decoding scan when
    /// its timestamps are missing or repeated, or when the decoder later produces a frame the
    /// parse scan did not list. The default.
    #[default]
    Auto,
    /// A parse-only scan; no fallback.
    Parse,
    /// A full decode of the file: slow, but the index is by definition what the decoder
    /// produces.
    Decode,
}

/// How an index was actually built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum IndexSource {
    /// From a parse-only scan: every access unit's timestamp, without decoding.
    Parse,
    /// From a full decode.
    Decode,
    /// From a full decode whose timestamps are missing or repeat (packed MPEG-4 Part 2
    /// B-frames in AVI, as Xvid writes them): frames are known by their order in a decode from
    /// the first frame, and their times are evenly spaced. Random access reads forward from
    /// the start (exact, slower).
    DecodeOrder,
}

/// Every frame's pts in presentation order, and the keyframes.
#[derive(Debug, Clone)]
pub(crate) struct Index {
    pub pts: Vec<gst::ClockTime>,
    /// Indices (into `pts`) of keyframes, ascending. Empty when unknown.
    pub keyframes: Vec<usize>,
    pub source: IndexSource,
    /// How far (ns) a decoded frame's pts may be from the listed one.
    pub tolerance: u64,
    /// For streams whose container gives decode-order times only: each access unit's
    /// decode timestamp (ns) -> its presentation timestamp, stamped on the buffers entering
    /// the decoder so that it outputs them with their place in presentation order.
    pub restamp: Option<Arc<BTreeMap<u64, gst::ClockTime>>>,
    /// Every stream of the file, in the order the demuxer exposed them.
    pub streams: Vec<StreamEntry>,
    /// The display orientation the container gives (GStreamer's `image-orientation` tag:
    /// `rotate-90`, `flip-rotate-0`, ...), when it is not `rotate-0`.
    pub orientation: Option<String>,
}

/// What a scan saw of one access unit, in stream (decode) order.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    pub pts: Option<gst::ClockTime>,
    pub dts: Option<gst::ClockTime>,
    pub key: bool,
    pub picture: Picture,
}

impl Index {
    /// The index of the frame with this pts. Demuxers may round a timestamp differently after
    /// a seek (qtdemux: 1 ns), so a pts within a quarter of the shortest frame interval (at
    /// most 1 ms) of a listed one is that frame.
    pub fn find(&self, pts: gst::ClockTime) -> Option<usize> {
        let at = self.pts.partition_point(|&p| p < pts);
        let tolerance = self.tolerance;
        let near = |i: usize| {
            self.pts
                .get(i)
                .is_some_and(|&p| p.nseconds().abs_diff(pts.nseconds()) <= tolerance)
        };
        if near(at) {
            Some(at)
        } else if at > 0 && near(at - 1) {
            Some(at - 1)
        } else {
            None
        }
    }

    /// The frame showing at time `t`: the last frame whose pts is at or before `t` (the first
    /// frame for times before it).
    pub fn at_time(&self, t: gst::ClockTime) -> usize {
        self.pts.partition_point(|&p| p <= t).saturating_sub(1)
    }

    /// The last keyframe at or before frame `i`.
    pub fn keyframe_before(&self, i: usize) -> Option<usize> {
        let k = self.keyframes.partition_point(|&k| k <= i);
        k.checked_sub(1).map(|k| self.keyframes[k])
    }

    /// Builds the index from what a scan saw, in stream order.
    fn from_entries(
        entries: Vec<Entry>,
        source: IndexSource,
        uri: &str,
    ) -> Result<Index, MediaError> {
        let unindexable = |reason: String| MediaError::Unindexable {
            uri: uri.into(),
            reason,
        };
        if let Some(index) = Index::reordered(&entries, source) {
            return Ok(index);
        }
        if source == IndexSource::Decode
            && let Err(e) = Index::from_entries(entries.clone(), IndexSource::Parse, uri)
        {
            tracing::debug!(%uri, "{e}: frames known by their decode order");
            return Ok(Index::by_order(&entries));
        }
        let mut frames = Vec::with_capacity(entries.len());
        for (n, entry) in entries.into_iter().enumerate() {
            let pts = entry
                .pts
                .ok_or_else(|| unindexable(format!("frame {n} (in stream order) has no pts")))?;
            frames.push((pts, entry.key));
        }
        frames.sort_by_key(|&(pts, _)| pts);
        if let Some(w) = frames.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(unindexable(format!(
                "two frames have the same pts {}",
                w[0].0
            )));
        }
        Ok(Index::new(frames, source, None))
    }

    /// The index of a decode whose timestamps cannot be trusted: frame `i` is the `i`-th
    /// frame decoded from the start, at evenly spaced times from the first timestamp (at the
    /// median interval between rising timestamps, 40 ms when there is none).
    fn by_order(entries: &[Entry]) -> Index {
        let times: Vec<u64> = entries
            .iter()
            .filter_map(|e| e.pts)
            .map(|p| p.nseconds())
            .collect();
        let first = times.first().copied().unwrap_or(0);
        let mut steps: Vec<u64> = times
            .windows(2)
            .filter(|w| w[1] > w[0])
            .map(|w| w[1] - w[0])
            .collect();
        steps.sort_unstable();
        let step = steps.get(steps.len() / 2).copied().unwrap_or(40_000_000);
        let frames = (0..entries.len() as u64)
            .map(|i| (gst::ClockTime::from_nseconds(first + i * step), false))
            .collect();
        let mut index = Index::new(frames, IndexSource::DecodeOrder, None);
        index.keyframes.clear();
        index
    }

    fn new(
        frames: Vec<(gst::ClockTime, bool)>,
        source: IndexSource,
        restamp: Option<Arc<BTreeMap<u64, gst::ClockTime>>>,
    ) -> Index {
        let keyframes = frames
            .iter()
            .enumerate()
            .filter_map(|(i, &(_, key))| key.then_some(i))
            .collect();
        let min_interval = frames
            .windows(2)
            .map(|w| (w[1].0 - w[0].0).nseconds())
            .min()
            .unwrap_or(u64::MAX);
        Index {
            pts: frames.into_iter().map(|(pts, _)| pts).collect(),
            keyframes,
            source,
            tolerance: (min_interval / 4).min(1_000_000),
            restamp,
            streams: Vec::new(),
            orientation: None,
        }
    }

    /// The index of an MPEG-1/2 or MPEG-4 Part 2 stream with B-frames whose container gives
    /// decode-order times only (pts missing, or never going back): the presentation order
    /// comes from the picture types, the times from the decode timestamps (the same set of
    /// times, shifted by the reordering delay the first frame's pts shows, if it has one).
    fn reordered(entries: &[Entry], source: IndexSource) -> Option<Index> {
        let has_b = entries.iter().any(|e| e.picture == Picture::Bidirectional);
        let decode_order_pts = entries.iter().any(|e| e.pts.is_none())
            || entries
                .windows(2)
                .all(|w| w[0].pts.zip(w[1].pts).is_some_and(|(a, b)| a < b));
        if !has_b || !decode_order_pts {
            return None;
        }
        let dts: Vec<gst::ClockTime> = entries.iter().map(|e| e.dts).collect::<Option<_>>()?;
        if !dts.windows(2).all(|w| w[0] < w[1]) {
            return None;
        }
        let pictures: Vec<Picture> = entries.iter().map(|e| e.picture).collect();
        let positions = crate::order::presentation_positions(&pictures)?;
        // The first frame's own pts, when the container gives it, says how far presentation
        // times lag the decode times.
        let first = &entries[0];
        let delay = first
            .pts
            .and_then(|pts| pts.checked_sub(dts[positions[0]]))
            .unwrap_or_default();
        let mut frames = vec![(gst::ClockTime::ZERO, false); entries.len()];
        let mut restamp = BTreeMap::new();
        for (d, entry) in entries.iter().enumerate() {
            let pts = dts[positions[d]] + delay;
            frames[positions[d]] = (pts, entry.key);
            restamp.insert(dts[d].nseconds(), pts);
        }
        tracing::debug!(
            frames = frames.len(),
            "decode-order timestamps: presentation order from the picture types"
        );
        Some(Index::new(frames, source, Some(Arc::new(restamp))))
    }

    /// The presentation timestamp to stamp on an access unit entering the decoder, by its
    /// decode timestamp (see [`Index::restamp`]).
    pub fn restamped(&self, dts: gst::ClockTime) -> Option<gst::ClockTime> {
        let map = self.restamp.as_ref()?;
        let t = dts.nseconds();
        let lo = map.range(..=t).next_back();
        let hi = map.range(t..).next();
        [lo, hi]
            .into_iter()
            .flatten()
            .min_by_key(|(k, _)| k.abs_diff(t))
            .filter(|(k, _)| k.abs_diff(t) <= self.tolerance)
            .map(|(_, &pts)| pts)
    }
}

type Entries = Arc<Mutex<Vec<Entry>>>;

/// Runs a scan pipeline: `head` is the element that exposes the streams (parsebin or
/// uridecodebin); the first video stream goes into a fakesink whose probe records every
/// buffer's pts and keyframe flag.
fn scan(
    location: &Location,
    source: IndexSource,
    warnings: &Arc<AtomicU64>,
    stall: Duration,
) -> Result<Index, MediaError> {
    let uri = &location.uri;
    let pipeline = gst::Pipeline::new();
    let head = match source {
        IndexSource::Parse => {
            let src = gst::Element::make_from_uri(gst::URIType::Src, uri, None).map_err(|e| {
                MediaError::Uri {
                    input: uri.clone(),
                    reason: e.to_string(),
                }
            })?;
            let parsebin = make("parsebin")?;
            // MP4/MOV and Matroska/WebM demuxers give every frame's timestamps and keyframe
            // flags from the container's own index: their video needs no parser for a scan,
            // and parsing every access unit of a long file is most of the scan's cost.
            parsebin.connect("autoplug-continue", false, |args| {
                let pad = args.get(1).and_then(|v| v.get::<gst::Pad>().ok());
                let caps = args.get(2).and_then(|v| v.get::<gst::Caps>().ok());
                let from_indexed_container = pad
                    .and_then(|p| p.parent_element())
                    .and_then(|e| e.factory())
                    .is_some_and(|f| ["qtdemux", "matroskademux"].contains(&f.name().as_str()));
                let video = caps.is_some_and(|c| {
                    c.structure(0)
                        .is_some_and(|s| s.name().starts_with("video/"))
                });
                Some((!(from_indexed_container && video)).to_value())
            });
            pipeline
                .add_many([&src, &parsebin])
                .and_then(|_| src.link(&parsebin))
                .map_err(|e| MediaError::Uri {
                    input: uri.clone(),
                    reason: format!("cannot build the scan pipeline: {e}"),
                })?;
            parsebin
        }
        IndexSource::Decode | IndexSource::DecodeOrder => {
            let decodebin = make("uridecodebin")?;
            decodebin.set_property("uri", uri);
            skip_non_video(&decodebin);
            pipeline.add(&decodebin).map_err(|e| MediaError::Uri {
                input: uri.clone(),
                reason: e.to_string(),
            })?;
            decodebin
        }
    };
    // Not async: the scan needs no preroll, and a sink joining a running pipeline late
    // (after an audio stream's) must not hold its state change back.
    let sink = gst::ElementFactory::make("fakesink")
        .property("sync", false)
        .property("async", false)
        .build()
        .map_err(|_| {
            MediaError::Pipeline(gstpipe_core::Error::MissingElement {
                factory: "fakesink".into(),
                description: "the index scan".into(),
            })
        })?;
    let entries: Entries = Arc::default();
    let orientation: Arc<Mutex<Option<String>>> = Arc::default();
    let progress = Arc::new(AtomicU64::new(0));
    let sinkpad = sink.static_pad("sink").expect("fakesink has a sink pad");
    {
        let entries = Arc::clone(&entries);
        let progress = Arc::clone(&progress);
        sinkpad.add_probe(
            gst::PadProbeType::BUFFER | gst::PadProbeType::BUFFER_LIST,
            move |pad, info| {
                // The segment, as a decoder clips to it: frames that end before its start (an
                // edit list's cut) or start at or after its stop are never shown.
                let segment = pad
                    .sticky_event::<gst::event::Segment>(0)
                    .and_then(|e| e.segment().downcast_ref::<gst::ClockTime>().cloned());
                // MPEG video: the picture types, for streams timed in decode order only.
                let mpeg = (source == IndexSource::Parse)
                    .then(|| pad.current_caps())
                    .flatten()
                    .and_then(|caps| MpegVideo::from_caps(&caps));
                let record = |buffer: &gst::BufferRef| {
                    progress.fetch_add(1, Ordering::Relaxed);
                    let flags = buffer.flags();
                    // Frames a decoder decodes but never shows (e.g. VP8 alternate reference
                    // frames, frames before an edit list's start) are not frames of the video.
                    if flags.contains(gst::BufferFlags::DECODE_ONLY)
                        || flags.contains(gst::BufferFlags::HEADER) && buffer.size() == 0
                    {
                        return;
                    }
                    if let (Some(segment), Some(pts)) = (&segment, buffer.pts()) {
                        let before = buffer.duration().is_some_and(|d| {
                            segment
                                .start()
                                .is_some_and(|start| !d.is_zero() && pts + d <= start)
                        });
                        let after = segment.stop().is_some_and(|stop| pts >= stop);
                        if before || after {
                            return;
                        }
                    }
                    let key = !flags.contains(gst::BufferFlags::DELTA_UNIT);
                    let picture = mpeg
                        .and_then(|m| buffer.map_readable().ok().map(|data| m.picture(&data)))
                        .unwrap_or(Picture::Unknown);
                    entries.lock_unpoisoned().push(Entry {
                        pts: buffer.pts(),
                        dts: buffer.dts(),
                        key,
                        picture,
                    });
                };
                match &info.data {
                    Some(gst::PadProbeData::Buffer(b)) => record(b),
                    Some(gst::PadProbeData::BufferList(list)) => list.iter().for_each(record),
                    _ => {}
                }
                gst::PadProbeReturn::Ok
            },
        );
    }
    {
        // The stream's display orientation (MP4/MOV display matrix, as qtdemux tags it).
        let orientation = Arc::clone(&orientation);
        sinkpad.add_probe(gst::PadProbeType::EVENT_DOWNSTREAM, move |_, info| {
            if let Some(gst::PadProbeData::Event(event)) = &info.data
                && let gst::EventView::Tag(tag) = event.view()
                && let Some(value) = tag.tag().get::<gst::tags::ImageOrientation>()
            {
                *orientation.lock_unpoisoned() = Some(value.get().to_string());
            }
            gst::PadProbeReturn::Ok
        });
    }
    let streams = Streams::wanting(location.video_stream);
    link_streams(&head, &sink, Arc::clone(&streams));
    let pipeline = Pipeline::from_pipeline(pipeline);
    let log = BusLog::new(Arc::clone(warnings));
    log.attach(&pipeline);
    let operation = match source {
        IndexSource::Parse => "scanning the file's frames",
        IndexSource::Decode | IndexSource::DecodeOrder => "decoding the file to index its frames",
    };
    let ran = run_to_eos(&pipeline, &log, &progress, stall, uri, operation);
    drop(pipeline);
    let videos = streams.videos();
    if !streams.video.load(Ordering::Acquire) && videos > 0 && ran.is_ok() {
        return Err(MediaError::NoStream {
            uri: uri.clone(),
            stream: location.video_stream,
            videos,
        });
    }
    if !streams.video.load(Ordering::Acquire) {
        return Err(match ran {
            // Streams but no video, and the others ended (or wait for a video sink forever).
            Err(MediaError::Timeout { .. }) | Ok(()) if streams.exposed.load(Ordering::Acquire) => {
                MediaError::NoVideo { uri: uri.clone() }
            }
            // No stream at all. A demuxer's error while parsebin sets it up can be swallowed
            // by parsebin (GStreamer 1.22): all that is left is a scan that never progresses.
            Err(MediaError::Timeout { uri, waited, .. }) => MediaError::Timeout {
                uri,
                operation: "looking for the file's streams (none appeared: a damaged or unsupported file?)",
                waited,
            },
            Ok(()) => MediaError::NoVideo { uri: uri.clone() },
            Err(e) => e,
        });
    }
    ran?;
    let entries = std::mem::take(&mut *entries.lock_unpoisoned());
    let mut index = Index::from_entries(entries, source, uri)?;
    index.streams = std::mem::take(&mut *streams.seen.lock_unpoisoned());
    index.orientation = orientation
        .lock_unpoisoned()
        .take()
        .filter(|o| o != "rotate-0");
    tracing::debug!(%uri, ?source, frames = index.pts.len(), keyframes = index.keyframes.len(), "indexed");
    Ok(index)
}

type CacheKey = (String, usize, u64, std::time::SystemTime);

fn cache() -> &'static Mutex<HashMap<CacheKey, Arc<Index>>> {
    static CACHE: OnceLock<Mutex<HashMap<CacheKey, Arc<Index>>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

fn cache_key(location: &Location) -> Option<CacheKey> {
    let (len, modified) = location.stamp()?;
    Some((location.uri.clone(), location.video_stream, len, modified))
}

/// Where a reader's index came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum IndexOrigin {
    /// Built by scanning the file when it was opened (and saved, when a cache directory is
    /// set and writable).
    Scanned,
    /// From an earlier reader of the same file in this process.
    Process,
    /// From the index saved on disk by an earlier scan (this process or another).
    Saved,
}

/// The file's index: from the process-wide cache (keyed by URI, size and modification time),
/// the saved indexes in `saved` (see [`crate::saved`]), or by scanning (then saved there).
pub(crate) fn index(
    location: &Location,
    mode: IndexMode,
    warnings: &Arc<AtomicU64>,
    stall: Duration,
    saved: Option<&Path>,
) -> Result<(Arc<Index>, IndexOrigin), MediaError> {
    let usable = |index: &Index| mode != IndexMode::Decode || index.source == IndexSource::Decode;
    let key = cache_key(location);
    if let Some(key) = &key {
        let cached = cache().lock_unpoisoned().get(key).cloned();
        if let Some(index) = cached
            && usable(&index)
        {
            return Ok((index, IndexOrigin::Process));
        }
    }
    if let Some(index) = saved.and_then(|dir| crate::saved::load(dir, location))
        && usable(&index)
    {
        let index = Arc::new(index);
        remember(location, &index, None);
        return Ok((index, IndexOrigin::Saved));
    }
    let index = match mode {
        IndexMode::Parse => scan(location, IndexSource::Parse, warnings, stall)?,
        IndexMode::Decode => scan(location, IndexSource::Decode, warnings, stall)?,
        IndexMode::Auto => match scan(location, IndexSource::Parse, warnings, stall) {
            Ok(index) => index,
            Err(MediaError::Unindexable { reason, .. }) => {
                tracing::debug!(uri = %location.uri, %reason, "parse scan unusable, decoding instead");
                scan(location, IndexSource::Decode, warnings, stall)?
            }
            Err(e) => return Err(e),
        },
    };
    let index = Arc::new(index);
    remember(location, &index, saved);
    Ok((index, IndexOrigin::Scanned))
}

/// Replaces the cached index of `location` (after a decoding scan corrected a parse scan), in
/// the process and in `saved`.
pub(crate) fn remember(location: &Location, index: &Arc<Index>, saved: Option<&Path>) {
    if let Some(key) = cache_key(location) {
        cache().lock_unpoisoned().insert(key, Arc::clone(index));
    }
    if let Some(dir) = saved {
        crate::saved::save(dir, location, index);
    }
}

/// A decoding scan, for a reader whose parse index turned out wrong.
pub(crate) fn decode_index(
    location: &Location,
    warnings: &Arc<AtomicU64>,
    stall: Duration,
    saved: Option<&Path>,
) -> Result<Arc<Index>, MediaError> {
    let index = Arc::new(scan(location, IndexSource::Decode, warnings, stall)?);
    remember(location, &index, saved);
    Ok(index)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> gst::ClockTime {
        gst::ClockTime::from_mseconds(v)
    }

    fn entry(pts: Option<gst::ClockTime>, key: bool) -> Entry {
        Entry {
            pts,
            dts: None,
            key,
            picture: Picture::Unknown,
        }
    }

    #[test]
    fn entries_are_sorted_into_presentation_order() {
        let entries = vec![
            entry(Some(ms(66)), true),
            entry(Some(ms(133)), false),
            entry(Some(ms(100)), false),
        ];
        let index = Index::from_entries(entries, IndexSource::Parse, "x").unwrap();
        assert_eq!(index.pts, vec![ms(66), ms(100), ms(133)]);
        assert_eq!(index.keyframes, vec![0]);
        assert_eq!(index.find(ms(100)), Some(1));
        assert_eq!(index.find(ms(101)), Some(1));
        assert_eq!(
            index.find(ms(100) + gst::ClockTime::from_nseconds(1_000_001)),
            None
        );
        assert_eq!(index.find(ms(99)), Some(1));
        assert_eq!(index.find(ms(98)), None);
        assert_eq!(index.at_time(ms(0)), 0);
        assert_eq!(index.at_time(ms(100)), 1);
        assert_eq!(index.at_time(ms(132)), 1);
        assert_eq!(index.at_time(ms(5000)), 2);
        assert_eq!(index.keyframe_before(2), Some(0));
    }

    #[test]
    fn missing_or_repeated_pts_are_refused() {
        let e = Index::from_entries(
            vec![entry(Some(ms(1)), true), entry(None, false)],
            IndexSource::Parse,
            "f",
        )
        .unwrap_err();
        assert!(e.to_string().contains("frame 1"), "{e}");
        let e = Index::from_entries(
            vec![entry(Some(ms(1)), true), entry(Some(ms(1)), false)],
            IndexSource::Parse,
            "f",
        )
        .unwrap_err();
        assert!(e.to_string().contains("same pts"), "{e}");
    }

    #[test]
    fn decode_order_times_are_reordered_by_picture_type() {
        use Picture::{Anchor as A, Bidirectional as B};
        // AVI-like: dts on every frame, pts on keyframes only (equal to their dts).
        let types = [A, A, B, B, A, B, B];
        let entries: Vec<Entry> = types
            .iter()
            .enumerate()
            .map(|(d, &picture)| Entry {
                pts: (d == 0).then(|| ms(0)),
                dts: Some(ms(40 * d as u64)),
                key: d == 0,
                picture,
            })
            .collect();
        let index = Index::from_entries(entries, IndexSource::Parse, "x").unwrap();
        let want: Vec<_> = (0..7).map(|k| ms(40 * k)).collect();
        assert_eq!(index.pts, want);
        assert_eq!(index.keyframes, vec![0]);
        // The P decoded second (dts 40) is shown fourth (pts 120); the B after it second.
        assert_eq!(index.restamped(ms(40)), Some(ms(120)));
        assert_eq!(index.restamped(ms(80)), Some(ms(40)));
        assert_eq!(index.restamped(ms(500)), None);
        // Without B-frames the timestamps are used as they are (here: refused, no pts).
        let plain = vec![Entry {
            picture: A,
            ..entry(None, true)
        }];
        assert!(Index::from_entries(plain, IndexSource::Parse, "x").is_err());
    }
}

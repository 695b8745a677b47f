//! Video files as exactly indexed frames: [`VideoReader`] gives the `i`-th frame of a plain
//! sequential decode, bit for bit, by seeking, for any codec GStreamer decodes (H.264 and
//! H.265 with B-frames, VP8, VP9, MJPEG, ...), constant or variable frame rate.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = std::env::temp_dir().join(format!("gstpipe-media-doc-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir)?;
//! # let path = dir.join("clip.webm");
//! # let p = gstpipe_core::Pipeline::launch(&format!(
//! #     "videotestsrc num-buffers=40 ! video/x-raw,width=64,height=48,framerate=25/1 ! \
//! #      vp8enc ! webmmux ! filesink location={}", path.display()))?;
//! # p.play()?; p.wait_timeout(std::time::Duration::from_secs(30))?;
//! # let path = path.to_str().unwrap();
//! use gstpipe_media::{SeekMode, VideoReader};
//! use std::time::Duration;
//!
//! let mut reader = VideoReader::open(path)?; // a path or a URI
//! assert_eq!(reader.len(), 40); // exact, from a scan of the file without decoding
//! assert_eq!(reader.fps(), 25.0);
//! assert!(!reader.is_variable_rate());
//!
//! let frame = reader.get(31)?; // the 32nd frame of a sequential decode
//! assert_eq!(frame.pts(), Some(reader.pts()[31]));
//! let batch = reader.get_batch(&[20, 2, 20])?; // any order, repeats; each decoded once
//! assert_eq!(batch.len(), 3);
//!
//! let i = reader.seek_time(Duration::from_millis(500), SeekMode::Exact)?;
//! assert_eq!(i, 12); // the frame showing at 0.5 s
//! let rest = reader.iter_from(i).count();
//! assert_eq!(rest, 28);
//! # Ok(()) }
//! ```
//!
//! # How frames are found
//!
//! Opening a file builds its index: every frame's presentation timestamp (pts), in
//! presentation order, and the keyframes. A parse-only scan (`parsebin`, no decoder) reads
//! them from the container and the stream's parser; when its timestamps are missing or
//! repeated, or when the decoder later produces a frame the scan did not list, the reader
//! indexes by decoding instead ([`IndexMode`]). Containers that time frames in decode order
//! only (AVI, MPEG program streams, raw MPEG video) are put in presentation order from the
//! MPEG picture types. The index is cached per file (URI, size, modification time) for the
//! life of the process, so several readers of a file share it, and saved on disk for later
//! processes ([`VideoReaderBuilder::index_cache`], [`IndexOrigin`]).
//!
//! To return frame `i` the reader seeks to the keyframe before it, or keeps decoding forward
//! when that decodes fewer frames, and checks every frame it gets against the index: a seek
//! that lands wrong (fragmented MP4, MPEG program streams) falls back to an earlier keyframe
//! or a fresh decoder, and frames the decoder skips (damaged data) are reported
//! ([`VideoReader::lost_frames`]), never silently replaced by their neighbours. B-frame reordering (a first pts of 0.0667 s, not 0) and container rounding
//! (Matroska's milliseconds) are thus never an issue: times come from the file, never from
//! `i / fps`.

mod clips;
mod error;
mod index;
mod location;
mod order;
mod reader;
mod rgb;
mod saved;

pub use clips::{ClipPlan, ClipPolicy, ClipRange, Clips};
pub use error::MediaError;
pub use index::{IndexMode, IndexOrigin, IndexSource};
pub use location::{StreamEntry, codec_name};
pub use reader::{
    DEFAULT_READ_TIMEOUT, Frames, SeekMode, StreamInfo, VideoReader, VideoReaderBuilder,
};
pub use saved::default_dir as default_index_cache_dir;

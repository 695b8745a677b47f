//! Frame indexes saved on disk, so that a file is scanned once and its index reused by later
//! processes: one small text file per video in a cache directory, named by a hash of the
//! video's URI, size and modification time, and checked on load against those and a digest
//! of the video's first and last 64 KiB (a file rewritten in place within the modification
//! time's granularity is caught too). Saving is best effort: a cache that cannot be written
//! costs a scan next time, nothing else. The directory keeps at most 2000 indexes (the
//! least recently written go first).

use crate::index::{Index, IndexSource};
use crate::location::{Location, StreamEntry};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::hash::{Hash, Hasher};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::UNIX_EPOCH;

const MAGIC: &str = "gstpipe-index 2";
const DIGEST_SPAN: u64 = 64 * 1024;
/// At most this many saved indexes: past it, saving removes the least recently written half.
const MAX_SAVED: usize = 2000;

/// The directory indexes are saved in by default: `$GSTPIPE_INDEX_CACHE` when set (empty or
/// `off`: none), else `$XDG_CACHE_HOME/gstpipe/index`, else `~/.cache/gstpipe/index`.
pub fn default_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("GSTPIPE_INDEX_CACHE") {
        return (!dir.is_empty() && dir != "off").then(|| PathBuf::from(dir));
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("gstpipe").join("index"))
}

/// What identifies a version of a local file.
struct Stamp {
    uri: String,
    video_stream: usize,
    size: u64,
    mtime_ns: u128,
    digest: u64,
}

impl Stamp {
    fn of(location: &Location) -> Option<Stamp> {
        let path = location.path.as_ref()?;
        let (size, modified) = location.stamp()?;
        let mtime_ns = modified.duration_since(UNIX_EPOCH).ok()?.as_nanos();
        Some(Stamp {
            uri: location.uri.clone(),
            video_stream: location.video_stream,
            size,
            mtime_ns,
            digest: digest(path, size).ok()?,
        })
    }

    fn file_name(&self) -> String {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (&self.uri, self.video_stream, self.size, self.mtime_ns).hash(&mut h);
        format!("{:016x}.idx", h.finish())
    }

    fn header(&self) -> String {
        format!(
            "{MAGIC}\nuri {}\nstream {}\nsize {}\nmtime {}\ndigest {:016x}\n",
            self.uri, self.video_stream, self.size, self.mtime_ns, self.digest
        )
    }
}

/// A hash of the first and last [`DIGEST_SPAN`] bytes of the file.
fn digest(path: &Path, size: u64) -> std::io::Result<u64> {
    let mut file = std::fs::File::open(path)?;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    let mut buf = Vec::with_capacity(DIGEST_SPAN as usize);
    (&mut file).take(DIGEST_SPAN).read_to_end(&mut buf)?;
    buf.hash(&mut h);
    if size > DIGEST_SPAN {
        buf.clear();
        file.seek(SeekFrom::Start(
            size.saturating_sub(DIGEST_SPAN).max(DIGEST_SPAN),
        ))?;
        file.take(DIGEST_SPAN).read_to_end(&mut buf)?;
        buf.hash(&mut h);
    }
    Ok(h.finish())
}

/// The saved index of `location` in `dir`, when there is one for this version of the file.
pub(crate) fn load(dir: &Path, location: &Location) -> Option<Index> {
    let stamp = Stamp::of(location)?;
    let text = std::fs::read_to_string(dir.join(stamp.file_name())).ok()?;
    let body = text.strip_prefix(&stamp.header())?;
    let index = parse(body);
    if index.is_none() {
        tracing::warn!(uri = %location.uri, dir = %dir.display(), "ignoring a damaged saved index");
    }
    index
}

fn parse(body: &str) -> Option<Index> {
    let mut fields = BTreeMap::new();
    for line in body.lines() {
        let (key, value) = line.split_once(' ').unwrap_or((line, ""));
        fields.insert(key, value);
    }
    let numbers = |key: &str| -> Option<Vec<u64>> {
        fields
            .get(key)?
            .split_whitespace()
            .map(|n| n.parse().ok())
            .collect()
    };
    let source = match *fields.get("source")? {
        "parse" => IndexSource::Parse,
        "decode" => IndexSource::Decode,
        "decode-order" => IndexSource::DecodeOrder,
        _ => return None,
    };
    let pts: Vec<gst::ClockTime> = numbers("pts")?
        .into_iter()
        .map(gst::ClockTime::from_nseconds)
        .collect();
    let keyframes: Vec<usize> = numbers("keyframes")?
        .into_iter()
        .map(|k| usize::try_from(k).ok())
        .collect::<Option<_>>()?;
    let tolerance = fields.get("tolerance")?.parse().ok()?;
    let restamp = match fields.get("restamp") {
        None => None,
        Some(pairs) => Some(Arc::new(
            pairs
                .split_whitespace()
                .map(|pair| {
                    let (dts, pts) = pair.split_once(':')?;
                    Some((
                        dts.parse().ok()?,
                        gst::ClockTime::from_nseconds(pts.parse().ok()?),
                    ))
                })
                .collect::<Option<BTreeMap<u64, gst::ClockTime>>>()?,
        )),
    };
    let streams = fields
        .get("streams")?
        .split_whitespace()
        .map(|s| {
            let (kind, codec) = s.split_once(':')?;
            Some(StreamEntry {
                kind: kind.into(),
                codec: codec.into(),
            })
        })
        .collect::<Option<Vec<_>>>()?;
    let sorted = pts.windows(2).all(|w| w[0] < w[1]);
    let keys_ok = keyframes.iter().all(|&k| k < pts.len());
    (sorted && keys_ok && !pts.is_empty()).then_some(Index {
        pts,
        keyframes,
        source,
        tolerance,
        restamp,
        streams,
        orientation: fields.get("orientation").map(|o| o.to_string()),
    })
}

/// Saves `index` for `location` in `dir` (written to a temporary file, then renamed, so that
/// a concurrent reader never sees half of it). Returns whether it was saved.
pub(crate) fn save(dir: &Path, location: &Location, index: &Index) -> bool {
    let Some(stamp) = Stamp::of(location) else {
        return false;
    };
    let mut text = stamp.header();
    let source = match index.source {
        IndexSource::Parse => "parse",
        IndexSource::Decode => "decode",
        IndexSource::DecodeOrder => "decode-order",
    };
    let _ = writeln!(text, "source {source}\ntolerance {}", index.tolerance);
    let join = |items: &mut dyn Iterator<Item = String>| items.collect::<Vec<_>>().join(" ");
    let _ = writeln!(
        text,
        "pts {}",
        join(&mut index.pts.iter().map(|p| p.nseconds().to_string()))
    );
    let _ = writeln!(
        text,
        "keyframes {}",
        join(&mut index.keyframes.iter().map(usize::to_string))
    );
    let _ = writeln!(
        text,
        "streams {}",
        join(
            &mut index
                .streams
                .iter()
                .map(|s| format!("{}:{}", s.kind, s.codec))
        )
    );
    if let Some(orientation) = &index.orientation {
        let _ = writeln!(text, "orientation {orientation}");
    }
    if let Some(restamp) = &index.restamp {
        let _ = writeln!(
            text,
            "restamp {}",
            join(&mut restamp.iter().map(|(d, p)| format!("{d}:{}", p.nseconds())))
        );
    }
    let path = dir.join(stamp.file_name());
    let tmp = dir.join(format!("{}.{}.tmp", stamp.file_name(), std::process::id()));
    let written = std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(&tmp, text.as_bytes()))
        .and_then(|()| std::fs::rename(&tmp, &path));
    match written {
        Ok(()) => {
            trim(dir);
            true
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            tracing::warn!(uri = %location.uri, dir = %dir.display(), "cannot save the index: {e}");
            false
        }
    }
}

/// Keeps the directory to [`MAX_SAVED`] indexes (temporary files and old indexes of
/// changed or deleted videos would otherwise pile up): removes the oldest half past it.
fn trim(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut saved: Vec<(std::time::SystemTime, PathBuf)> = entries
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "idx"))
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    if saved.len() <= MAX_SAVED {
        return;
    }
    saved.sort();
    for (_, path) in &saved[..saved.len() - MAX_SAVED / 2] {
        let _ = std::fs::remove_file(path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_index_survives_saving_and_loading() {
        let index = Index {
            pts: vec![
                gst::ClockTime::from_mseconds(40),
                gst::ClockTime::from_mseconds(80),
            ],
            keyframes: vec![0],
            source: IndexSource::Parse,
            tolerance: 10_000,
            restamp: Some(Arc::new(BTreeMap::from([(
                0,
                gst::ClockTime::from_mseconds(40),
            )]))),
            streams: vec![StreamEntry {
                kind: "video".into(),
                codec: "h264".into(),
            }],
            orientation: Some("rotate-90".into()),
        };
        let dir = std::env::temp_dir().join(format!("gstpipe-saved-{}", std::process::id()));
        let video = dir.join("v.bin");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(&video, b"not a video, only bytes").unwrap();
        let location = Location::resolve(video.to_str().unwrap()).unwrap();
        assert!(load(&dir, &location).is_none());
        assert!(save(&dir, &location, &index));
        let back = load(&dir, &location).expect("saved");
        assert_eq!(back.pts, index.pts);
        assert_eq!(back.keyframes, index.keyframes);
        assert_eq!(back.tolerance, index.tolerance);
        assert_eq!(back.restamp, index.restamp);
        assert_eq!(back.streams, index.streams);
        assert_eq!(back.orientation, index.orientation);
        // Another version of the file: not this index.
        std::fs::write(&video, b"not a video, other bytes").unwrap();
        let location = Location::resolve(video.to_str().unwrap()).unwrap();
        assert!(load(&dir, &location).is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_directory_keeps_the_newest_half_past_its_limit() {
        let dir = std::env::temp_dir().join(format!("gstpipe-trim-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for k in 0..=MAX_SAVED {
            std::fs::write(dir.join(format!("{k:05}.idx")), b"x").unwrap();
        }
        std::fs::write(dir.join("other.txt"), b"not an index").unwrap();
        trim(&dir);
        let left = std::fs::read_dir(&dir).unwrap().count();
        assert_eq!(
            left,
            MAX_SAVED / 2 + 1,
            "half the indexes and the other file"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

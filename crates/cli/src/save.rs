//! `launch --save DIR`: frames as PNG files, 8 or 16 bits as the format holds.

use crate::error::usage;
use anyhow::{Context as _, Result};
use gstpipe_frame::{Frame, FrameError};
use std::fs::File;
use std::io::{BufWriter, IntoInnerError};
use std::path::{Path, PathBuf};

/// Writes every `every`-th frame to `dir/frame-NNNNNN.png`.
#[derive(Debug)]
pub struct Saver {
    dir: PathBuf,
    every: u64,
}

impl Saver {
    /// Creates `dir` (and its parents) if needed.
    pub fn new(dir: PathBuf, every: u64) -> Result<Self> {
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create directory {}", dir.display()))?;
        Ok(Saver {
            dir,
            every: every.max(1),
        })
    }

    /// The file frame `index` is written to.
    pub fn path(&self, index: u64) -> PathBuf {
        frame_path(&self.dir, index)
    }

    /// Saves the frame if its index is a multiple of `every`; returns the path written.
    pub fn save(&self, frame: &Frame, index: u64) -> Result<Option<PathBuf>> {
        if !index.is_multiple_of(self.every) {
            return Ok(None);
        }
        let image = frame.to_image().map_err(|e| match e {
            FrameError::ImageUnsupported { format } => usage(format!(
                "cannot save {} frames as PNG, which holds 8- or 16-bit gray, RGB and RGBA: \
                 add `videoconvert ! video/x-raw,format=RGB` before the appsink",
                format.to_str()
            )),
            other => anyhow::Error::from(other).context("cannot save the frame as PNG"),
        })?;
        let path = self.path(index);
        write_file(&path, |out| {
            image
                .write_to(out, image::ImageFormat::Png)
                .map_err(|e| match e {
                    image::ImageError::IoError(e) => e,
                    other => std::io::Error::other(other),
                })
        })?;
        tracing::debug!(path = %path.display(), "saved frame {index}");
        Ok(Some(path))
    }
}

/// Creates `path` and fills it with `write`, through a buffer that is flushed and checked: a
/// full disk or any other write error is reported naming the file (never a silently short
/// file, as a dropped `BufWriter` would leave), and the partial file is removed.
pub fn write_file(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
) -> Result<()> {
    let written = File::create(path).and_then(|file| {
        let mut out = BufWriter::new(file);
        write(&mut out)?;
        out.into_inner().map_err(IntoInnerError::into_error)?;
        Ok(())
    });
    written.map_err(|e| {
        // Best effort: a partial file is worse than none.
        let _ = std::fs::remove_file(path);
        anyhow::Error::from(e).context(format!("cannot write {}", path.display()))
    })
}

/// `dir/frame-000042.png`.
pub fn frame_path(dir: &Path, index: u64) -> PathBuf {
    dir.join(format!("frame-{index:06}.png"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_is_zero_padded_to_six() {
        assert_eq!(
            frame_path(Path::new("out"), 42),
            Path::new("out").join("frame-000042.png")
        );
        assert_eq!(
            frame_path(Path::new("d"), 1_234_567),
            Path::new("d").join("frame-1234567.png")
        );
    }
}

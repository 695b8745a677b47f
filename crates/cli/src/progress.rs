//! The progress bar `launch` shows on a terminal: frames, fps, and percent when the number of
//! frames can be known (a source's `num-buffers`, or the pipeline's duration).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use std::io::IsTerminal as _;

/// A progress bar on stderr, or nothing (not a terminal, `--json`, `--quiet`).
pub struct Progress {
    bar: Option<ProgressBar>,
    /// Whether stdout is a terminal too: then printing must hide the bar for a moment.
    share_terminal: bool,
}

impl Progress {
    /// A bar when `wanted` and stderr is a terminal; `total` frames when known.
    pub fn new(wanted: bool, total: Option<u64>, stdout_terminal: bool) -> Self {
        if !wanted || !std::io::stderr().is_terminal() {
            return Progress::none();
        }
        let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr())
            .with_style(style(total.is_some()));
        Progress {
            bar: Some(bar),
            share_terminal: stdout_terminal,
        }
    }

    /// No bar.
    pub fn none() -> Self {
        Progress {
            bar: None,
            share_terminal: false,
        }
    }

    /// Sets the total once it becomes known (e.g. from the duration after preroll).
    pub fn set_total(&self, total: u64) {
        if let Some(bar) = &self.bar
            && bar.length().is_none()
        {
            bar.set_length(total);
            bar.set_style(style(true));
        }
    }

    /// Whether a bar is shown.
    pub fn is_shown(&self) -> bool {
        self.bar.is_some()
    }

    /// Counts one frame.
    pub fn inc(&self) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    /// Runs `f` (which prints to stdout) with the bar hidden when both share a terminal.
    pub fn around<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.bar {
            Some(bar) if self.share_terminal => bar.suspend(f),
            _ => f(),
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

/// `[#####     ] 120/300 frames  40%  1012.3 fps  0s`, or a spinner without a total.
fn style(with_total: bool) -> ProgressStyle {
    let template = if with_total {
        "{bar:30} {pos}/{len} frames {percent:>3}%  {fps}  {elapsed}"
    } else {
        "{spinner} {pos} frames  {fps}  {elapsed}"
    };
    ProgressStyle::with_template(template)
        .expect("a valid template")
        .with_key(
            "fps",
            |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.1} fps", state.per_sec());
            },
        )
}

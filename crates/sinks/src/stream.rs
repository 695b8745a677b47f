//! [`FrameSink::stream`]: an async `Stream` of frames that also reports pipeline errors
//! (feature `stream`).

use crate::channel::FrameReceiver;
use crate::error::SinkError;
use crate::queue::Policy;
use crate::sink::FrameSink;
use gstpipe_frame::Frame;
use std::pin::Pin;
use std::task::{Context, Poll};

/// How many frames [`FrameSink::stream`] queues ahead of the async consumer.
pub const DEFAULT_STREAM_CAPACITY: usize = 2;

impl FrameSink {
    /// An async [`Stream`](futures_core::Stream) of `Result<Frame, SinkError>`, for tokio or
    /// any executor: every frame, then the end at EOS or stop, or the pipeline's error (or a
    /// [`SinkError::Timeout`] when it stalls) as the last item. Unlike the appsink's own
    /// `stream()`, errors are reported rather than ending the stream silently or never.
    ///
    /// Frames go from the appsink's `new-sample` callback into a queue of
    /// [`DEFAULT_STREAM_CAPACITY`] with [`Policy::Block`] (see
    /// [`stream_with`](FrameSink::stream_with) for others), which wakes the task; a stall
    /// wakes it through a GStreamer clock timer. No thread, no polling.
    ///
    /// ```
    /// use gstpipe_core::Pipeline;
    /// use gstpipe_sinks::FrameSink;
    /// use std::pin::Pin;
    ///
    /// # tokio::runtime::Runtime::new()?.block_on(async {
    /// let pipeline = Pipeline::launch("videotestsrc num-buffers=4 ! appsink")?;
    /// let mut stream = FrameSink::new(&pipeline)?.stream();
    /// pipeline.play()?;
    /// let mut count = 0;
    /// while let Some(frame) =
    ///     std::future::poll_fn(|cx| futures_core::Stream::poll_next(Pin::new(&mut stream), cx)).await
    /// {
    ///     frame?;
    ///     count += 1;
    /// }
    /// assert_eq!(count, 4);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn stream(self) -> FrameStream {
        self.stream_with(DEFAULT_STREAM_CAPACITY, Policy::Block)
    }

    /// Like [`stream`](FrameSink::stream) with another queue capacity and policy
    /// ([`Policy::DropOldest`] for latest-frame consumers of live sources).
    pub fn stream_with(self, capacity: usize, policy: Policy) -> FrameStream {
        FrameStream {
            receiver: self.channel(capacity, policy),
            deadline: None,
        }
    }
}

/// The async stream of [`FrameSink::stream`]. `Unpin`; ends after an error.
#[derive(Debug)]
#[must_use = "streams do nothing unless polled"]
pub struct FrameStream {
    receiver: FrameReceiver,
    /// When the current wait gives up, and the clock timer that wakes the task then.
    deadline: Option<(std::time::Instant, gst::SingleShotClockId)>,
}

impl Drop for FrameStream {
    fn drop(&mut self) {
        if let Some((_, id)) = self.deadline.take() {
            id.unschedule();
        }
    }
}

impl FrameStream {
    /// The queue behind the stream: dropped-frame count, length, appsink.
    pub fn receiver(&self) -> &FrameReceiver {
        &self.receiver
    }
}

impl futures_core::Stream for FrameStream {
    type Item = Result<Frame, SinkError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        this.receiver.poll_recv(cx, &mut this.deadline)
    }
}

impl futures_core::FusedStream for FrameStream {
    fn is_terminated(&self) -> bool {
        self.receiver.is_ended()
    }
}

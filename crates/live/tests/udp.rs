//! RTP over UDP on 127.0.0.1: a sender that pauses and resumes. UDP has no connection to
//! lose: only the watchdog sees the pause; frames resume in a new generation.

use crate::server::{read_stamp, stamp};
use crate::util::{Reader, assert_event_grammar};
use gst::prelude::*;
use gstpipe_core::Pipeline;
use gstpipe_live::{Backoff, HealthEvent, LiveError, LiveSource};
use std::time::{Duration, Instant, SystemTime};

const WAIT: Duration = Duration::from_secs(30);

#[test]
fn paused_udp_stream_resumes() {
    let port = {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.local_addr().unwrap().port()
    };
    let sender = Pipeline::launch(&format!(
        "videotestsrc name=src is-live=true \
         ! video/x-raw,format=I420,width=160,height=120,framerate=30/1 \
         ! jpegenc ! rtpjpegpay ! udpsink host=127.0.0.1 port={port} sync=false"
    ))
    .unwrap();
    // Each frame carries the sender's time at capture.
    sender
        .by_name("src")
        .unwrap()
        .static_pad("src")
        .unwrap()
        .add_probe(gst::PadProbeType::BUFFER, |_, info| {
            if let Some(gst::PadProbeData::Buffer(buffer)) = &mut info.data {
                stamp(buffer.make_mut(), SystemTime::now());
            }
            gst::PadProbeReturn::Ok
        });
    let stall = Duration::from_millis(500);
    let source = LiveSource::builder(format!(
        "udpsrc address=127.0.0.1 port={port} \
         caps=\"application/x-rtp,media=video,clock-rate=90000,encoding-name=JPEG,payload=26\" \
         ! rtpjitterbuffer latency=50 ! rtpjpegdepay ! jpegdec ! video/x-raw,format=I420 ! appsink"
    ))
    .backoff(
        Backoff::new(Duration::from_millis(50))
            .jitter(0.0)
            .max(Duration::from_millis(200)),
    )
    .stall_timeout(stall)
    .capacity(256)
    .build()
    .unwrap();
    sender.play().unwrap();
    let mut reader = Reader::new(&source);
    reader.frames_of(1, 10, WAIT);

    sender.pause().unwrap();
    let event = reader.event("disconnected", WAIT);
    let HealthEvent::Disconnected {
        error: LiveError::Stalled { .. },
        ..
    } = &event
    else {
        panic!("a paused UDP sender is a stall, got {event}")
    };
    reader.event("reconnecting", WAIT);

    let resumed = SystemTime::now();
    let resumed_at = Instant::now();
    sender.play().unwrap();
    reader.event("reconnected", WAIT);
    let first = reader.frames_of(2, 1, WAIT);
    let to_first = resumed_at.elapsed();
    assert!(first.after_gap());
    // Frames the sender captured after resuming that never arrived (the new pipeline was
    // still being built): the first one received was captured this long after the resume.
    let missed = read_stamp(&first)
        .duration_since(resumed)
        .unwrap_or_default();
    println!(
        "UDP sender resumed -> first frame: {:.3} s; it was captured {:.3} s after the resume \
         (about {} frames at 30 fps missed after the resume)",
        to_first.as_secs_f64(),
        missed.as_secs_f64(),
        (missed.as_secs_f64() * 30.0).floor()
    );
    let frame = reader.frames_of(2, 10, WAIT);
    assert!(frame.generation() >= 2);
    assert_eq!((frame.width(), frame.height()), (160, 120));
    sender.stop().unwrap();
    assert_event_grammar(&reader.event_names());
    let indices = reader.indices();
    assert!(indices.windows(2).all(|w| w[1] == w[0] + 1), "{indices:?}");
}

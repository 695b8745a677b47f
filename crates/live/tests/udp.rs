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
    // Each frame carries the sender's time at capture; the sender keeps a list of them.
    let sent = std::sync::Arc::new(std::sync::Mutex::new(Vec::<SystemTime>::new()));
    let log = std::sync::Arc::clone(&sent);
    sender
        .by_name("src")
        .unwrap()
        .static_pad("src")
        .unwrap()
        .add_probe(gst::PadProbeType::BUFFER, move |_, info| {
            if let Some(gst::PadProbeData::Buffer(buffer)) = &mut info.data {
                let now = SystemTime::now();
                stamp(buffer.make_mut(), now);
                log.lock().unwrap().push(now);
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
    // still being built): those stamped before the first one received.
    let first_stamp = read_stamp(&first);
    let missed = sent
        .lock()
        .unwrap()
        .iter()
        .filter(|t| **t >= resumed && t.duration_since(first_stamp).is_err())
        .filter(|t| first_stamp.duration_since(**t).unwrap() > Duration::from_micros(500))
        .count();
    println!(
        "UDP sender resumed -> first frame: {:.3} s; {missed} frames sent after the resume \
         were missed",
        to_first.as_secs_f64(),
    );
    let frame = reader.frames_of(2, 10, WAIT);
    assert!(frame.generation() >= 2);
    assert_eq!((frame.width(), frame.height()), (160, 120));
    sender.stop().unwrap();
    assert_event_grammar(&reader.event_names());
    let indices = reader.indices();
    assert!(indices.windows(2).all(|w| w[1] == w[0] + 1), "{indices:?}");
}

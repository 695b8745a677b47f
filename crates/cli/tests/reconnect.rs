//! `gstpipe launch --reconnect`: frames keep coming across rebuilds, health events are NDJSON
//! objects, giving up exits 1.

use crate::util::gstpipe;
use serde_json::Value;

fn events(lines: &[Value]) -> Vec<String> {
    lines
        .iter()
        .filter_map(|v| v.get("event")?.as_str().map(String::from))
        .collect()
}

/// A source that ends after 3 frames is rebuilt: indices keep counting, generations change,
/// frames carry their capture time, the events come between them in order.
#[test]
fn reconnect_keeps_counting_across_rebuilds() {
    let run = gstpipe(&[
        "launch",
        "-p",
        "videotestsrc num-buffers=3 ! video/x-raw,format=GRAY8,width=8,height=4 ! appsink",
        "--reconnect",
        "--reconnect-delay",
        "0.01",
        "--max-frames",
        "9",
        "--json",
    ])
    .success()
    .no_panic();
    let lines = run.json_lines();
    let frames: Vec<&Value> = lines.iter().filter(|v| v.get("index").is_some()).collect();
    let indices: Vec<u64> = frames
        .iter()
        .map(|v| v["index"].as_u64().unwrap())
        .collect();
    assert_eq!(indices, (0..9).collect::<Vec<_>>(), "{}", run.stdout);
    let generations: Vec<u64> = frames
        .iter()
        .map(|v| v["generation"].as_u64().unwrap())
        .collect();
    assert_eq!(generations, [1, 1, 1, 2, 2, 2, 3, 3, 3]);
    let now_ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    for frame in &frames {
        let wall = frame["wall_ns"].as_u64().expect("wall_ns");
        assert!(
            wall > 1_600_000_000_000_000_000 && wall <= now_ns,
            "{frame}"
        );
        assert_eq!(frame["shape"], serde_json::json!([4, 8, 1]));
    }
    assert_eq!(
        events(&lines),
        [
            "connected",
            "disconnected",
            "reconnecting",
            "reconnected",
            "disconnected",
            "reconnecting",
            "reconnected"
        ]
    );
    let disconnected = lines.iter().find(|v| v["event"] == "disconnected").unwrap();
    assert_eq!(disconnected["generation"], 1);
    assert!(
        disconnected["error"]
            .as_str()
            .unwrap()
            .contains("end of stream")
    );
    let summary = lines.last().unwrap();
    assert_eq!(summary["frames"], 9);
    assert_eq!(summary["reconnects"], 2);
}

/// A source that never delivers: the watchdog ends each attempt, and after --max-reconnects
/// the command gives up with exit status 1 and a `gave_up` event.
#[test]
fn silent_source_gives_up_with_exit_1() {
    let run = gstpipe(&[
        "launch",
        "-p",
        "videotestsrc is-live=true ! valve drop=true ! appsink",
        "--reconnect",
        "--reconnect-delay",
        "0.01",
        "--max-reconnects",
        "2",
        "--stall",
        "0.2",
        "--json",
    ])
    .code(1)
    .no_panic();
    let lines = run.json_lines();
    assert_eq!(
        events(&lines),
        [
            "disconnected",
            "reconnecting",
            "disconnected",
            "reconnecting",
            "disconnected",
            "gave_up"
        ]
    );
    let gave_up = lines.iter().find(|v| v["event"] == "gave_up").unwrap();
    assert_eq!(gave_up["attempts"], 2);
    assert!(
        gave_up["error"].as_str().unwrap().contains("stalled"),
        "{gave_up}"
    );
    assert!(
        run.stderr.contains("gave up after 2 reconnection attempts"),
        "{}",
        run.stderr
    );
}

/// Nothing listens on the RTSP port: rtspsrc's connection error, then giving up (exit 1).
#[test]
fn absent_rtsp_server_gives_up_with_exit_1() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let description = format!(
        "rtspsrc location=rtsp://127.0.0.1:{port}/cam protocols=tcp ! rtpjpegdepay ! jpegdec ! appsink"
    );
    let run = gstpipe(&[
        "launch",
        "-p",
        &description,
        "--reconnect",
        "--reconnect-delay",
        "0.01",
        "--max-reconnects",
        "1",
    ])
    .code(1)
    .no_panic();
    assert!(
        run.stdout.contains("-- gave up after 1 attempts"),
        "{}",
        run.stdout
    );
    assert!(run.stderr.contains("rtspsrc"), "{}", run.stderr);
}

/// Descriptions that cannot work are usage errors (exit 2), as without --reconnect; the
/// reconnect options need --reconnect.
#[test]
fn reconnect_usage_errors() {
    let run = gstpipe(&["launch", "-p", "videotestsrc ! fakesink", "--reconnect"])
        .code(2)
        .no_panic();
    assert!(run.stderr.contains("appsink"), "{}", run.stderr);
    gstpipe(&["launch", "-p", "nosuchelement ! appsink", "--reconnect"]).code(2);
    gstpipe(&["launch", "--stall", "1"]).code(2);
    gstpipe(&["launch", "--reconnect", "--max-reconnects", "0"]).code(2);
}

//! A real RTSP server (gst-rtsp-server) for the tests, run in a child process so that tests
//! can kill it, restart it on the same port, and freeze it (SIGSTOP).
//!
//! The child is this very test binary, started with `GSTPIPE_LIVE_TEST_SERVER` set and the
//! filter `server::serves_stamped_jpeg`: that test then serves until it is killed (or its
//! parent goes away, or `SERVER_LIFETIME` passes). Run normally, the same test checks the
//! server in-process: a live source reads stamped frames from it.
//!
//! Every frame carries the server's `SystemTime` at capture, written into its luma plane as 64
//! blocks of 8x8 pixels (one bit each, 16 or 235): JPEG keeps such blocks intact, and the
//! client reads the stamp back with [`read_stamp`].

use gst::glib;
use gst::prelude::*;
use gst_rtsp_server::prelude::*;
use std::io::{BufRead as _, BufReader, Read as _};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, SystemTime};

/// The environment variable that turns the test binary into a server: the port to listen on
/// (0: any free port).
const SERVER_ENV: &str = "GSTPIPE_LIVE_TEST_SERVER";
/// The line the child prints once it listens: `GSTPIPE_LIVE_PORT <port>`.
const READY: &str = "GSTPIPE_LIVE_PORT ";
/// How long a server process lives at most, should its test never kill it.
const SERVER_LIFETIME: Duration = Duration::from_secs(180);
/// How long starting a server may take.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// The path the stream is served at.
pub const PATH: &str = "/test";
/// Frame size of the stream.
pub const WIDTH: usize = 160;
pub const HEIGHT: usize = 120;
const BLOCK: usize = 8;
const BITS: usize = 64;

/// The server's media: 160x120 I420 at 30 fps, JPEG over RTP, stamped at capture.
const LAUNCH: &str = "( videotestsrc name=src is-live=true pattern=ball \
     ! video/x-raw,format=I420,width=160,height=120,framerate=30/1 \
     ! jpegenc ! rtpjpegpay name=pay0 )";

/// Builds the server (not yet attached to a main context).
fn rtsp_server(port: u16) -> gst_rtsp_server::RTSPServer {
    gst::init().unwrap();
    let server = gst_rtsp_server::RTSPServer::new();
    server.set_address("127.0.0.1");
    server.set_service(&port.to_string());
    let factory = gst_rtsp_server::RTSPMediaFactory::new();
    factory.set_launch(LAUNCH);
    factory.connect_media_configure(|_, media| {
        let bin = media.element();
        let src = bin
            .downcast_ref::<gst::Bin>()
            .and_then(|b| b.by_name("src"))
            .expect("the media has the videotestsrc");
        src.static_pad("src")
            .unwrap()
            .add_probe(gst::PadProbeType::BUFFER, |_, info| {
                if let Some(gst::PadProbeData::Buffer(buffer)) = &mut info.data {
                    stamp(buffer.make_mut(), SystemTime::now());
                }
                gst::PadProbeReturn::Ok
            });
    });
    server.mount_points().unwrap().add_factory(PATH, factory);
    server
}

/// Writes `time` (UNIX microseconds) into the luma plane of an I420 160x120 buffer.
/// Call it on buffers of `videotestsrc ! video/x-raw,format=I420,width=160,height=120`.
pub fn stamp(buffer: &mut gst::BufferRef, time: SystemTime) {
    let micros = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_micros() as u64;
    let Ok(mut map) = buffer.map_writable() else {
        return;
    };
    let luma = map.as_mut_slice();
    let per_row = WIDTH / BLOCK;
    for bit in 0..BITS {
        let value = if micros >> bit & 1 == 1 { 235 } else { 16 };
        let (bx, by) = (bit % per_row, bit / per_row);
        for y in by * BLOCK..(by + 1) * BLOCK {
            let row = y * WIDTH; // I420 at width 160: stride 160
            luma[row + bx * BLOCK..row + (bx + 1) * BLOCK].fill(value);
        }
    }
}

/// Reads the stamp back from a decoded GRAY8 (or I420 luma) frame: the capture time at the
/// server.
pub fn read_stamp(frame: &gstpipe_frame::Frame) -> SystemTime {
    let planes = frame.planes::<u8>().unwrap();
    let luma = &planes[0];
    let per_row = WIDTH / BLOCK;
    let mut micros = 0u64;
    for bit in 0..BITS {
        let (bx, by) = (bit % per_row, bit / per_row);
        // The block's inner 4x4 pixels, away from the edges JPEG blurs.
        let mut sum = 0u32;
        for y in by * BLOCK + 2..by * BLOCK + 6 {
            for x in bx * BLOCK + 2..bx * BLOCK + 6 {
                sum += u32::from(luma[[y, x, 0]]);
            }
        }
        if sum / 16 > 128 {
            micros |= 1 << bit;
        }
    }
    SystemTime::UNIX_EPOCH + Duration::from_micros(micros)
}

/// The child's side: serve until killed.
fn serve_forever(port: u16) -> ! {
    let server = rtsp_server(port);
    server.attach(None).expect("the RTSP server attaches");
    println!("\n{READY}{}", server.bound_port());
    // End with the parent: its end of our stdin closes when it exits, however it exits.
    std::thread::spawn(|| {
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
        std::process::exit(0);
    });
    let main_loop = glib::MainLoop::new(None, false);
    glib::timeout_add_once(SERVER_LIFETIME, || std::process::exit(0));
    main_loop.run();
    std::process::exit(0)
}

/// A server in a child process.
pub struct ServerProcess {
    child: Child,
    port: u16,
}

impl ServerProcess {
    /// Starts a server on `port` (0: a free one) and waits (bounded) until it listens.
    pub fn start(port: u16) -> ServerProcess {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "server::serves_stamped_jpeg",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(SERVER_ENV, port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the server process starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                // libtest may print its own text on the same line first.
                if let Some(at) = line.find(READY) {
                    let _ = tx.send(line[at + READY.len()..].trim().parse::<u16>().unwrap());
                }
            }
        });
        match rx.recv_timeout(START_TIMEOUT) {
            Ok(port) => ServerProcess { child, port },
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the RTSP server did not start within {START_TIMEOUT:?}: {e}");
            }
        }
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `rtsp://127.0.0.1:PORT/test`.
    pub fn url(&self) -> String {
        format!("rtsp://127.0.0.1:{}{PATH}", self.port)
    }

    /// Kills it (SIGKILL) and reaps it.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Sends `signal` (e.g. `STOP`, `CONT`) with kill(1).
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([format!("-{signal}"), self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -{signal} failed");
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// In a child process started by [`ServerProcess::start`]: serves until killed. Otherwise:
/// the server (in this process) serves frames a live source reads, stamped with times between
/// the test's start and the frame's arrival.
#[test]
fn serves_stamped_jpeg() {
    if let Ok(port) = std::env::var(SERVER_ENV) {
        serve_forever(port.parse().unwrap());
    }
    let started = SystemTime::now();
    let server = rtsp_server(0);
    let context = glib::MainContext::new();
    let _source = server.attach(Some(&context)).unwrap();
    let port = server.bound_port();
    assert!(port > 0, "the server is bound");
    let main_loop = glib::MainLoop::new(Some(&context), false);
    let runner = {
        let main_loop = main_loop.clone();
        std::thread::spawn(move || main_loop.run())
    };

    let source = gstpipe_live::LiveSource::builder(format!(
        "rtspsrc location=rtsp://127.0.0.1:{port}{PATH} protocols=tcp latency=0 \
         ! rtpjpegdepay ! jpegdec ! video/x-raw,format=I420 ! appsink"
    ))
    .stall_timeout(Duration::from_secs(20))
    .build()
    .unwrap();
    let mut frames = 0;
    while frames < 3 {
        let item = source
            .next_timeout(Duration::from_secs(30))
            .expect("a frame within 30 s")
            .expect("the source runs");
        let Some(frame) = item.frame() else { continue };
        assert_eq!(
            (frame.width(), frame.height()),
            (WIDTH as u32, HEIGHT as u32)
        );
        let stamp = read_stamp(frame);
        assert!(
            stamp >= started - Duration::from_millis(1) && stamp <= SystemTime::now(),
            "stamp {stamp:?} not between the start {started:?} and now"
        );
        frames += 1;
    }
    source.stop();
    main_loop.quit();
    runner.join().unwrap();
}

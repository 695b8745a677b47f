//! Integration tests of gstpipe-live: real servers on 127.0.0.1 (RTSP in a child process, UDP
//! in this one), every wait bounded.

mod rtsp;
mod server;
mod supervisor;
mod udp;
mod util;

//! Frames are `Send` and `Sync`; views are tied to their frame (see the `compile_fail`
//! doctest in the crate docs).

use gst_video::{VideoFormat, VideoInfo};
use gstpipe_frame::Frame;

use crate::util::init;

#[test]
fn frame_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Frame>();
}

#[test]
fn frame_moves_to_another_thread() {
    init();
    let info = VideoInfo::builder(VideoFormat::Gray8, 3, 2)
        .build()
        .unwrap();
    let buffer = gst::Buffer::from_mut_slice(vec![1u8, 2, 3, 0, 4, 5, 6, 0]);
    let frame = Frame::from_buffer(buffer, &info).unwrap();
    let sum = std::thread::spawn(move || {
        frame
            .view::<u8>()
            .unwrap()
            .iter()
            .map(|&v| u32::from(v))
            .sum::<u32>()
    })
    .join()
    .unwrap();
    assert_eq!(sum, 21);
}

//! The map path allocates nothing proportional to the frame size: a counting global
//! allocator records every Rust heap allocation made while frames are mapped and read.

use gstpipe_benches::{gst_video::VideoFormat, prepared_buffer, read_rows_view};
use gstpipe_core::Pipeline;
use gstpipe_frame::Frame;
use gstpipe_sinks::FrameSink;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Counts allocations (number, bytes, largest) while `COUNTING` is set.
struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static COUNT: AtomicUsize = AtomicUsize::new(0);
static BYTES: AtomicUsize = AtomicUsize::new(0);
static LARGEST: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call forwards to the system allocator with the same arguments; the counters
// are atomics and never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            COUNT.fetch_add(1, Ordering::Relaxed);
            BYTES.fetch_add(layout.size(), Ordering::Relaxed);
            LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        }
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, passed on unchanged.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout (see `alloc`).
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            COUNT.fetch_add(1, Ordering::Relaxed);
            BYTES.fetch_add(new_size, Ordering::Relaxed);
            LARGEST.fetch_max(new_size, Ordering::Relaxed);
        }
        // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract, passed on unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// (allocations, bytes, largest) made while `f` runs.
fn counted(f: impl FnOnce()) -> (usize, usize, usize) {
    COUNT.store(0, Ordering::SeqCst);
    BYTES.store(0, Ordering::SeqCst);
    LARGEST.store(0, Ordering::SeqCst);
    COUNTING.store(true, Ordering::SeqCst);
    f();
    COUNTING.store(false, Ordering::SeqCst);
    (
        COUNT.load(Ordering::SeqCst),
        BYTES.load(Ordering::SeqCst),
        LARGEST.load(Ordering::SeqCst),
    )
}

// One test function: the counters are process-wide, so parallel tests would see each other.
#[test]
fn the_map_path_allocates_nothing_frame_sized() {
    view_path();
    iterator_path();
}

fn view_path() {
    let (buffer, info) = prepared_buffer(VideoFormat::Rgb, 1920, 1080);
    let frame_bytes = info.size();
    const N: usize = 50;
    let (count, bytes, largest) = counted(|| {
        for _ in 0..N {
            let frame = Frame::from_buffer(buffer.clone(), &info).unwrap();
            let view = frame.view::<u8>().unwrap();
            std::hint::black_box(read_rows_view(&view));
        }
    });
    println!(
        "view path, {N} frames of {frame_bytes} B: {count} allocations, {bytes} B, largest {largest} B"
    );
    assert!(
        largest < frame_bytes / 100,
        "largest allocation {largest} B"
    );
    assert!(bytes / N < frame_bytes / 100, "{} B per frame", bytes / N);

    // The copy path, for contrast, allocates the frame once per copy: the counter sees it.
    let (_, copy_bytes, copy_largest) = counted(|| {
        let frame = Frame::from_buffer(buffer.clone(), &info).unwrap();
        std::hint::black_box(frame.to_array::<u8>().unwrap());
    });
    assert!(
        copy_largest >= 1920 * 1080 * 3,
        "the counter sees the copy ({copy_bytes} B)"
    );
}

fn iterator_path() {
    let pipeline = Pipeline::launch(
        "videotestsrc num-buffers=60 pattern=black ! video/x-raw,format=RGB,width=1920,height=1080 ! appsink",
    )
    .unwrap();
    let sink = FrameSink::new(&pipeline).unwrap();
    pipeline.play().unwrap();
    let mut frames = 0;
    // Skip the first frames: caps parsing and queues allocate once at the start.
    for frame in sink.iter().take(10) {
        frame.unwrap();
        frames += 1;
    }
    let (count, bytes, largest) = counted(|| {
        for frame in sink.iter() {
            let frame = frame.unwrap();
            let view = frame.view::<u8>().unwrap();
            std::hint::black_box(view[[0, 0, 0]]);
            frames += 1;
        }
    });
    assert_eq!(frames, 60);
    println!("iterator, 50 frames: {count} allocations, {bytes} B, largest {largest} B");
    assert!(
        largest < 1920 * 1080 * 3 / 100,
        "largest allocation {largest} B"
    );
}

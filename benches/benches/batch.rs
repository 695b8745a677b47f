//! `batch`: stacking 8 and 32 held frames into one `(N, H, W, C)` array, against plain
//! memcpy of the same bytes. Two pairs: `FrameBatch::from_frames` (a new array each batch) against
//! a memcpy into a new `Vec` each time (`memcpy_alloc`), and `FrameBatch::stack_into` (a reused
//! array) against a memcpy into a reused buffer (`memcpy`).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use gstpipe_benches::{RESOLUTIONS, gst_video::VideoFormat, prepared_buffer};
use gstpipe_frame::Frame;
use gstpipe_sinks::FrameBatch;
use std::hint::black_box;

fn batch(c: &mut Criterion) {
    for res in &RESOLUTIONS[..2] {
        for n in [8usize, 32] {
            let (buffer, info) = prepared_buffer(VideoFormat::Rgb, res.width, res.height);
            let frames: Vec<Frame> = (0..n)
                .map(|_| Frame::from_buffer(buffer.copy_deep().unwrap(), &info).unwrap())
                .collect();
            let frame_bytes = (res.width * res.height * 3) as usize;
            let mut group = c.benchmark_group(format!("batch/RGB/{}/{n}", res.label));
            group.throughput(Throughput::Bytes((frame_bytes * n) as u64));
            group.sample_size(20);
            group.bench_function(BenchmarkId::new("batch", n), |b| {
                b.iter(|| black_box(FrameBatch::<u8>::from_frames(&frames).unwrap()))
            });
            // The limit: the same bytes copied frame by frame into one buffer that exists already.
            let maps: Vec<_> = frames.iter().map(|f| f.plane_bytes(0).unwrap()).collect();
            let mut dst = vec![0u8; frame_bytes * n];
            group.bench_function(BenchmarkId::new("memcpy", n), |b| {
                b.iter(|| {
                    for (chunk, src) in dst.chunks_exact_mut(frame_bytes).zip(&maps) {
                        chunk.copy_from_slice(&src[..frame_bytes]);
                    }
                    black_box(dst[dst.len() / 2])
                })
            });
            group.bench_function(BenchmarkId::new("memcpy_alloc", n), |b| {
                b.iter(|| {
                    let mut fresh: Vec<u8> = Vec::with_capacity(frame_bytes * n);
                    for src in &maps {
                        fresh.extend_from_slice(&src[..frame_bytes]);
                    }
                    black_box(fresh)
                })
            });
            let mut out =
                ndarray::Array4::<u8>::zeros((n, res.height as usize, res.width as usize, 3));
            group.bench_function(BenchmarkId::new("stack_into", n), |b| {
                b.iter(|| black_box(FrameBatch::<u8>::stack_into(&frames, out.view_mut()).unwrap()))
            });
            group.finish();
        }
    }
}

criterion_group!(benches, batch);
criterion_main!(benches);

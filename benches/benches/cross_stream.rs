//! `cross_stream`: batches across N streams with `gstpipe-batch`. `assemble` forms one batch
//! from N frames pushed into N feeds (the batcher's own cost per batch); `nhwc_u8` copies a
//! formed batch into a reused `(N, H, W, 3)` u8 array against `memcpy_in`, a memcpy of the
//! same number of bytes; `nchw_f32` converts it into a reused `(N, 3, H, W)` f32 array with
//! ImageNet scale/mean/std in the same pass, against `memcpy_out`, a memcpy of the output's
//! size (4 bytes per sample) between two buffers that exist already.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use gstpipe_batch::{Batch, Batcher, Normalize, QueuePolicy};
use gstpipe_benches::{RESOLUTIONS, gst_video::VideoFormat, prepared_buffer};
use gstpipe_frame::Frame;
use std::hint::black_box;
use std::time::Duration;

/// A batch of `n` RGB frames at `width` x `height`, each slot filled.
fn formed_batch(n: usize, width: u32, height: u32) -> Batch {
    let (buffer, info) = prepared_buffer(VideoFormat::Rgb, width, height);
    let mut batcher = Batcher::builder().ahead(QueuePolicy::keep_newest()).build();
    let feeds: Vec<_> = (0..n).map(|i| batcher.add_feed(&format!("s{i}"))).collect();
    for feed in &feeds {
        let frame = Frame::from_buffer(buffer.copy_deep().unwrap(), &info).unwrap();
        assert!(feed.push(frame));
    }
    let batch = batcher.next_batch().unwrap().unwrap();
    assert_eq!(batch.filled_count(), n);
    batch
}

fn cross_stream(c: &mut Criterion) {
    for (res, n) in [(&RESOLUTIONS[0], 8usize), (&RESOLUTIONS[1], 4)] {
        let (w, h) = (res.width as usize, res.height as usize);
        let samples = n * h * w * 3;
        let mut group = c.benchmark_group(format!("cross_stream/RGB/{}/{n}", res.label));
        group.sample_size(20);
        group.measurement_time(Duration::from_secs(4));

        // Forming a batch: N frames pushed into N feeds, then taken as one batch.
        let (buffer, info) = prepared_buffer(VideoFormat::Rgb, res.width, res.height);
        let mut batcher = Batcher::builder().ahead(QueuePolicy::keep_newest()).build();
        let feeds: Vec<_> = (0..n).map(|i| batcher.add_feed(&format!("s{i}"))).collect();
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function("assemble", |b| {
            b.iter(|| {
                for feed in &feeds {
                    feed.push(Frame::from_buffer(buffer.clone(), &info).unwrap());
                }
                black_box(batcher.next_batch().unwrap().unwrap().filled_count())
            })
        });

        let batch = formed_batch(n, res.width, res.height);
        group.throughput(Throughput::Bytes(samples as u64));
        let mut nhwc = ndarray::Array4::<u8>::zeros((n, h, w, 3));
        group.bench_function("nhwc_u8", |b| {
            b.iter(|| {
                batch.write_nhwc(nhwc.view_mut()).unwrap();
                black_box(nhwc[[n - 1, h - 1, w - 1, 2]])
            })
        });
        let src = vec![7u8; samples];
        let mut dst = vec![0u8; samples];
        group.bench_function("memcpy_in", |b| {
            b.iter(|| {
                dst.copy_from_slice(black_box(&src));
                black_box(dst[samples - 1])
            })
        });

        // The output's size: 4 bytes per sample.
        group.throughput(Throughput::Bytes(samples as u64 * 4));
        let normalize = Normalize::imagenet();
        let mut nchw = ndarray::Array4::<f32>::zeros((n, 3, h, w));
        group.bench_function("nchw_f32", |b| {
            b.iter(|| {
                batch.write_nchw(nchw.view_mut(), &normalize).unwrap();
                black_box(nchw[[n - 1, 2, h - 1, w - 1]])
            })
        });
        let src = vec![0.5f32; samples];
        let mut dst = vec![0f32; samples];
        group.bench_function("memcpy_out", |b| {
            b.iter(|| {
                dst.copy_from_slice(black_box(&src));
                black_box(dst[samples - 1])
            })
        });
        group.finish();
    }
}

criterion_group!(benches, cross_stream);
criterion_main!(benches);

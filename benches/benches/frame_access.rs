//! `frame_access`: the cost of a zero-copy view (plus reading every row) and of an owned copy,
//! against a plain `map_readable` with the same reading and a plain memcpy of the same bytes.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use gstpipe_benches::{
    RESOLUTIONS, gst_video::VideoFormat, prepared_buffer, read_rows_raw, read_rows_view,
};
use gstpipe_frame::Frame;
use std::hint::black_box;

fn packed(c: &mut Criterion) {
    for res in RESOLUTIONS {
        let (buffer, info) = prepared_buffer(VideoFormat::Rgb, res.width, res.height);
        let bytes = info.size();
        let mut group = c.benchmark_group(format!("frame_access/RGB/{}", res.label));
        group.throughput(Throughput::Bytes(bytes as u64));
        let stride = info.stride()[0] as usize;
        let row_bytes = res.width as usize * 3;
        let rows = res.height as usize;

        group.bench_function(BenchmarkId::new("raw_map_read", res.label), |b| {
            b.iter(|| {
                let map = buffer.map_readable().unwrap();
                black_box(read_rows_raw(&map, stride, row_bytes, rows))
            })
        });
        group.bench_function(BenchmarkId::new("view_read", res.label), |b| {
            b.iter(|| {
                let frame = Frame::from_buffer(buffer.clone(), &info).unwrap();
                let view = frame.view::<u8>().unwrap();
                black_box(read_rows_view(&view))
            })
        });
        let mut dst = vec![0u8; bytes];
        group.bench_function(BenchmarkId::new("memcpy", res.label), |b| {
            let map = buffer.map_readable().unwrap();
            b.iter(|| {
                dst.copy_from_slice(&map);
                black_box(dst[bytes / 2])
            })
        });
        group.bench_function(BenchmarkId::new("to_array", res.label), |b| {
            b.iter(|| {
                let frame = Frame::from_buffer(buffer.clone(), &info).unwrap();
                black_box(frame.to_array::<u8>().unwrap())
            })
        });
        group.finish();
    }
}

fn planar(c: &mut Criterion) {
    for res in RESOLUTIONS {
        let (buffer, info) = prepared_buffer(VideoFormat::I420, res.width, res.height);
        let bytes = info.size();
        let mut group = c.benchmark_group(format!("frame_access/I420/{}", res.label));
        group.throughput(Throughput::Bytes(bytes as u64));
        let planes: Vec<(usize, usize, usize, usize)> = (0..3)
            .map(|p| {
                let (w, h) = if p == 0 {
                    (res.width as usize, res.height as usize)
                } else {
                    (
                        res.width.div_ceil(2) as usize,
                        res.height.div_ceil(2) as usize,
                    )
                };
                (info.offset()[p], info.stride()[p] as usize, w, h)
            })
            .collect();

        group.bench_function(BenchmarkId::new("raw_map_read", res.label), |b| {
            b.iter(|| {
                let map = buffer.map_readable().unwrap();
                let sum: u64 = planes
                    .iter()
                    .map(|&(offset, stride, w, h)| read_rows_raw(&map[offset..], stride, w, h))
                    .sum();
                black_box(sum)
            })
        });
        group.bench_function(BenchmarkId::new("view_read", res.label), |b| {
            b.iter(|| {
                let frame = Frame::from_buffer(buffer.clone(), &info).unwrap();
                let sum: u64 = frame
                    .planes::<u8>()
                    .unwrap()
                    .iter()
                    .map(read_rows_view)
                    .sum();
                black_box(sum)
            })
        });
        let mut dst = vec![0u8; bytes];
        group.bench_function(BenchmarkId::new("memcpy", res.label), |b| {
            let map = buffer.map_readable().unwrap();
            b.iter(|| {
                dst.copy_from_slice(&map);
                black_box(dst[bytes / 2])
            })
        });
        group.bench_function(BenchmarkId::new("to_array", res.label), |b| {
            b.iter(|| {
                let frame = Frame::from_buffer(buffer.clone(), &info).unwrap();
                black_box(frame.planes_to_arrays::<u8>().unwrap())
            })
        });
        group.finish();
    }
}

criterion_group!(benches, packed, planar);
criterion_main!(benches);

//! `frame_access`: the cost of a zero-copy view (plus reading every row) and of an owned copy,
//! against a plain `map_readable` with the same reading and a plain memcpy of the same bytes.
//! RGB (one packed plane) and I420 (three planes) at each resolution.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use gstpipe_benches::{
    RESOLUTIONS, Resolution, gst_video::VideoFormat, prepared_buffer, read_rows_raw, read_rows_view,
};
use gstpipe_frame::Frame;
use std::hint::black_box;

/// (offset, stride, row bytes, rows) of each plane, from the caps: what a hand-written loop
/// over a buffer without `VideoMeta` uses.
fn plane_layout(info: &gst_video::VideoInfo) -> Vec<(usize, usize, usize, usize)> {
    let finfo = info.format_info();
    (0..info.n_planes() as usize)
        .map(|p| {
            let component = finfo.plane()[..finfo.n_components() as usize]
                .iter()
                .position(|&plane| plane as usize == p)
                .expect("every plane holds a component") as u8;
            let width = finfo.scale_width(component, info.width()) as usize;
            let rows = finfo.scale_height(component, info.height()) as usize;
            let row_bytes = width * finfo.pixel_stride()[component as usize] as usize;
            (info.offset()[p], info.stride()[p] as usize, row_bytes, rows)
        })
        .collect()
}

fn bench(c: &mut Criterion, format: VideoFormat, res: Resolution) {
    let (buffer, info) = prepared_buffer(format, res.width, res.height);
    let bytes = info.size();
    let planes = plane_layout(&info);
    let mut group = c.benchmark_group(format!("frame_access/{}/{}", format.to_str(), res.label));
    group.throughput(Throughput::Bytes(bytes as u64));

    group.bench_function(BenchmarkId::new("raw_map_read", res.label), |b| {
        b.iter(|| {
            let map = buffer.map_readable().unwrap();
            let sum: u64 = planes
                .iter()
                .map(|&(offset, stride, row_bytes, rows)| {
                    read_rows_raw(&map[offset..], stride, row_bytes, rows)
                })
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

fn frame_access(c: &mut Criterion) {
    for format in [VideoFormat::Rgb, VideoFormat::I420] {
        for res in RESOLUTIONS {
            bench(c, format, res);
        }
    }
}

criterion_group!(benches, frame_access);
criterion_main!(benches);

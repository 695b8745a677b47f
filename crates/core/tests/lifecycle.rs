//! Running, ending, failing, stopping and dropping pipelines.

use crate::util::{bounded, temp_dir, thread_count};
use gst::prelude::*;
use gstpipe_core::{Error, Outcome, Pipeline, gst};
use std::time::Duration;

#[test]
fn finite_pipeline_ends_in_eos() {
    bounded(30, || {
        let pipeline = Pipeline::launch("videotestsrc num-buffers=10 ! fakesink").unwrap();
        assert!(!pipeline.is_done());
        pipeline.play().unwrap();
        pipeline.wait().expect("EOS is Ok");
        assert_eq!(pipeline.outcome(), Some(Outcome::Eos));
        assert!(pipeline.is_done());
    });
}

#[test]
fn missing_file_is_an_element_error_not_eos() {
    bounded(30, || {
        let pipeline = Pipeline::launch("filesrc location=/nonexistent ! fakesink").unwrap();
        let err = pipeline.play().expect_err("play must fail");
        let element = err
            .element_error()
            .unwrap_or_else(|| panic!("expected element error, got {err:?}"))
            .clone();
        assert!(element.element.starts_with("filesrc"), "{element:?}");
        // GStreamer's message is generic ("Resource not found."); the path is in the detail.
        assert!(
            element.detail().unwrap().contains("/nonexistent"),
            "{element:?}"
        );
        assert!(err.to_string().contains("/nonexistent"), "{err}");
        assert!(
            element
                .path
                .ends_with(&format!("GstFileSrc:{}", element.element)),
            "{element:?}"
        );
        // The terminal state is the error, and wait() says so too.
        assert!(matches!(pipeline.outcome(), Some(Outcome::Error(_))));
        let waited = pipeline.wait_timeout(Duration::from_secs(5)).unwrap_err();
        assert_eq!(waited.element_error(), Some(&element));
        assert!(waited.to_string().contains(&element.element), "{waited}");
    });
}

#[test]
fn runtime_error_mid_stream_reaches_wait() {
    // The capsfilter refuses what videotestsrc produces after negotiation: a streaming error
    // posted while Playing, not at the state change.
    bounded(30, || {
        let pipeline =
            Pipeline::launch("videotestsrc num-buffers=50 ! identity name=boom ! fakesink")
                .unwrap();
        let identity = pipeline.by_name("boom").unwrap();
        let pad = identity.static_pad("src").unwrap();
        let seen = std::sync::atomic::AtomicU32::new(0);
        // Found through the pad, not captured: a captured element would be owned by its own
        // pad's probe (a reference cycle).
        pad.add_probe(gst::PadProbeType::BUFFER, move |pad, _| {
            if seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 5
                && let Some(element) = pad.parent_element()
            {
                element.post_error_message(gst::error_msg!(
                    gst::StreamError::Failed,
                    ["injected failure at buffer 5"]
                ));
                return gst::PadProbeReturn::Drop;
            }
            gst::PadProbeReturn::Ok
        });
        pipeline.play().unwrap();
        let err = pipeline.wait_timeout(Duration::from_secs(10)).unwrap_err();
        let e = err.element_error().expect("element error");
        assert_eq!(e.element, "boom");
        assert!(e.detail().unwrap().contains("injected failure"), "{e:?}");
        assert!(
            err.to_string().contains("injected failure at buffer 5"),
            "{err}"
        );
    });
}

#[test]
fn stalled_pipeline_times_out_instead_of_hanging() {
    bounded(30, || {
        // A live source whose buffers are all dropped: nothing ever ends.
        let pipeline =
            Pipeline::launch("videotestsrc is-live=true ! valve drop=true ! fakesink").unwrap();
        pipeline.play().unwrap();
        let started = std::time::Instant::now();
        let err = pipeline
            .wait_timeout(Duration::from_millis(300))
            .unwrap_err();
        let Error::Timeout { after, .. } = err else {
            panic!("expected a timeout, got {err:?}")
        };
        assert_eq!(after, Duration::from_millis(300));
        // A lower bound only: a loaded machine makes the wait longer, never shorter.
        assert!(started.elapsed() >= Duration::from_millis(300));
        assert!(!pipeline.is_done());
    });
}

#[test]
fn stop_finalises_a_matroska_file_from_a_live_source() {
    bounded(60, || {
        let dir = temp_dir("mkv");
        let path = dir.join("live.mkv");
        let description = format!(
            "videotestsrc is-live=true ! video/x-raw,width=64,height=48,framerate=30/1 ! \
             matroskamux name=mux ! filesink location={}",
            path.display()
        );
        let pipeline = Pipeline::launch(&description).unwrap();
        // Stop once the muxer has been given 400 ms of video (frame 12 at 30 fps), however
        // long the live source took to get there.
        let (tx, rx) = std::sync::mpsc::channel();
        let mux_sink = pipeline.by_name("mux").unwrap().sink_pads()[0].clone();
        mux_sink.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
            if let Some(gst::PadProbeData::Buffer(buffer)) = &info.data
                && buffer.pts() >= Some(gst::ClockTime::from_mseconds(400))
            {
                let _ = tx.send(());
            }
            gst::PadProbeReturn::Ok
        });
        pipeline.play().unwrap();
        rx.recv_timeout(Duration::from_secs(20))
            .expect("the live source produced 400 ms of video");
        pipeline.stop().expect("stop reaches EOS");
        assert_eq!(pipeline.outcome(), Some(Outcome::Eos));
        drop(pipeline);

        // GStreamer itself reads it back: demux to the end and ask for the duration.
        let reader = Pipeline::launch(&format!(
            "filesrc location={} ! matroskademux ! fakesink name=sink",
            path.display()
        ))
        .unwrap();
        reader.pause().unwrap();
        let duration = reader
            .gst()
            .query_duration::<gst::ClockTime>()
            .expect("a finalised file has a duration");
        assert!(
            duration >= gst::ClockTime::from_mseconds(300),
            "duration {duration}"
        );
        reader.play().unwrap();
        reader.wait_timeout(Duration::from_secs(10)).unwrap();
        let _ = std::fs::remove_dir_all(dir);
    });
}

#[test]
fn stop_without_eos_is_bounded_ok_and_pipeline_ends_in_null() {
    bounded(30, || {
        let mut pipeline =
            Pipeline::launch("videotestsrc is-live=true ! valve drop=true ! fakesink").unwrap();
        pipeline.set_stop_timeout(Duration::from_millis(200));
        pipeline.play().unwrap();
        // EOS is dropped by the valve too, so the wait for it is cut short; the pipeline did
        // not fail, so stop says Ok.
        pipeline.stop().unwrap();
        assert_eq!(pipeline.gst().current_state(), gst::State::Null);
        assert_eq!(pipeline.outcome(), Some(Outcome::Stopped));
        assert!(matches!(pipeline.wait(), Err(Error::Stopped { .. })));
    });
}

#[test]
fn stop_before_play_is_ok() {
    let pipeline = Pipeline::launch("videotestsrc ! fakesink").unwrap();
    pipeline.stop().unwrap();
}

#[test]
fn play_again_after_stop_runs_a_second_time() {
    bounded(30, || {
        let pipeline = Pipeline::launch("videotestsrc num-buffers=5 ! fakesink").unwrap();
        pipeline.play().unwrap();
        pipeline.wait_timeout(Duration::from_secs(10)).unwrap();
        pipeline.stop().unwrap();
        pipeline.play().unwrap();
        pipeline.wait_timeout(Duration::from_secs(10)).unwrap();
    });
}

#[test]
fn dropping_playing_pipelines_leaves_no_threads_behind() {
    bounded(60, || {
        let cycle = || {
            let pipeline = Pipeline::launch(
                "videotestsrc is-live=true ! queue ! videoconvert ! queue ! fakesink name=sink",
            )
            .unwrap();
            // Dropped once a buffer has reached the sink: all 3 streaming threads are running.
            let (tx, rx) = std::sync::mpsc::channel();
            let pad = pipeline
                .by_name("sink")
                .unwrap()
                .static_pad("sink")
                .unwrap();
            pad.add_probe(gst::PadProbeType::BUFFER, move |_, _| {
                let _ = tx.send(());
                gst::PadProbeReturn::Ok
            });
            pipeline.play().unwrap();
            rx.recv_timeout(Duration::from_secs(10))
                .expect("a buffer reached the sink");
            drop(pipeline);
        };
        // Warm up: GLib keeps a few idle pool threads for reuse.
        for _ in 0..3 {
            cycle();
        }
        let before = thread_count();
        for _ in 0..20 {
            cycle();
        }
        let after = thread_count();
        // Each playing pipeline runs 3 streaming threads; 20 leaked cycles would add 60.
        assert!(
            after <= before + 2,
            "threads before {before}, after {after}"
        );
    });
}

#[test]
fn context_runs_a_main_loop_for_bus_watches() {
    bounded(30, || {
        let ctx = gstpipe_core::Context::new().unwrap();
        assert!(ctx.is_running());
        let (tx, rx) = std::sync::mpsc::channel();
        let tx = std::sync::Mutex::new(tx);
        gst::glib::idle_add_once(move || {
            let _ = tx.lock().unwrap().send(());
        });
        rx.recv_timeout(Duration::from_secs(5))
            .expect("the main loop ran the idle callback");
        drop(ctx);
    });
}

#[test]
fn demuxer_failing_during_preroll_is_reported_by_play() {
    // The demuxer's error comes from its streaming thread, possibly just after the failed
    // state change: play() still names it rather than a bare state-change failure.
    bounded(30, || {
        let dir = temp_dir("corrupt");
        let file = dir.join("not-matroska.mkv");
        std::fs::write(&file, "this is not a matroska file\n".repeat(100)).unwrap();
        for _ in 0..5 {
            let pipeline = Pipeline::launch(&format!(
                "filesrc location={} ! matroskademux ! fakesink",
                file.display()
            ))
            .unwrap();
            let err = pipeline.play().expect_err("a corrupt file cannot preroll");
            let e = err
                .element_error()
                .unwrap_or_else(|| panic!("expected the demuxer's error, got {err:?}"));
            assert!(e.element.starts_with("matroskademux"), "{e:?}");
        }
        let _ = std::fs::remove_dir_all(dir);
    });
}

/// `stop()` right after `play()`, on a pipeline whose appsinks nobody reads (nothing attached
/// to them): the appsinks' queues and `wait-on-eos` must not hold the stop back.
#[test]
fn stop_is_prompt_with_unread_appsinks() {
    bounded(60, || {
        let single = "videotestsrc ! video/x-raw,width=64,height=48 ! appsink".to_string();
        let mut tee = String::from("videotestsrc ! video/x-raw,width=32,height=24 ! tee name=t");
        for i in 0..50 {
            tee.push_str(&format!(" t. ! queue ! appsink name=s{i}"));
        }
        // One appsink: well under 100 ms. Fifty branches (fifty queue threads to wind down
        // on a 2-core machine that runs other tests meanwhile): a bound of 500 ms, still a
        // tenth of the stop timeout an unread appsink used to cost.
        for (description, bound) in [(single, 100), (tee, 500)] {
            for played_for in [Duration::ZERO, Duration::from_millis(200)] {
                let pipeline = Pipeline::launch(&description).unwrap();
                pipeline.play().unwrap();
                if !played_for.is_zero() {
                    // Let the appsinks' unbounded queues fill (a bounded wait on the end,
                    // which does not come: the source is endless).
                    assert!(pipeline.wait_timeout(played_for).is_err());
                }
                let started = std::time::Instant::now();
                pipeline.stop().unwrap();
                let took = started.elapsed();
                assert!(
                    took < Duration::from_millis(bound),
                    "stop() took {took:?} after playing {played_for:?}: {}",
                    &description[..60.min(description.len())]
                );
            }
        }
    });
}

/// `stop()` called on the pipeline's own streaming thread (here an appsink callback) must
/// return, and the pipeline must stop: a state change there would wait for that very thread.
#[test]
fn stop_from_a_streaming_callback_returns_and_stops() {
    bounded(30, || {
        let pipeline = std::sync::Arc::new(
            Pipeline::launch("videotestsrc ! video/x-raw,width=32,height=24 ! appsink name=out")
                .unwrap(),
        );
        let appsink: gst_app::AppSink = pipeline.element("out").unwrap();
        let (returned, stopped) = std::sync::mpsc::channel();
        let weak = std::sync::Arc::downgrade(&pipeline);
        let calls = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
        let counter = std::sync::Arc::clone(&calls);
        appsink.set_callbacks(
            gst_app::AppSinkCallbacks::builder()
                .new_sample(move |sink| {
                    let _ = sink.pull_sample();
                    if counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 2
                        && let Some(pipeline) = weak.upgrade()
                    {
                        let result = pipeline.stop();
                        let _ = returned.send(result.is_ok());
                    }
                    Ok(gst::FlowSuccess::Ok)
                })
                .build(),
        );
        pipeline.play().unwrap();
        assert_eq!(stopped.recv_timeout(Duration::from_secs(10)), Ok(true));
        // The pipeline ends (EOS from the callback's stop), and a second stop from this
        // thread returns too.
        let outcome = pipeline.watch().wait_outcome(Duration::from_secs(10));
        assert!(
            matches!(outcome, Some(Outcome::Eos | Outcome::Stopped)),
            "{outcome:?}"
        );
        pipeline.stop().unwrap();
        let (_, state, _) = pipeline.gst().state(gst::ClockTime::from_seconds(5));
        assert_eq!(state, gst::State::Null);
    });
}

/// `request_eos()` on a streaming thread returns at once and the pipeline ends at EOS.
#[test]
fn request_eos_from_a_streaming_callback_ends_the_pipeline() {
    bounded(30, || {
        let pipeline = std::sync::Arc::new(
            Pipeline::launch("videotestsrc ! video/x-raw,width=32,height=24 ! appsink name=out")
                .unwrap(),
        );
        let appsink: gst_app::AppSink = pipeline.element("out").unwrap();
        let weak = std::sync::Arc::downgrade(&pipeline);
        appsink.set_callbacks(
            gst_app::AppSinkCallbacks::builder()
                .new_sample(move |sink| {
                    let _ = sink.pull_sample();
                    if let Some(pipeline) = weak.upgrade() {
                        pipeline.request_eos();
                    }
                    Ok(gst::FlowSuccess::Ok)
                })
                .build(),
        );
        pipeline.play().unwrap();
        pipeline.wait_timeout(Duration::from_secs(10)).unwrap();
        pipeline.stop().unwrap();
    });
}

/// `request_eos()` then at once a state change (drop, stop, play) must not deadlock: the EOS
/// send holds a source's state lock while its streaming thread may wait in a sink for that
/// very state change.
#[test]
fn request_eos_then_drop_or_play_at_once_does_not_deadlock() {
    bounded(60, || {
        for i in 0..30 {
            let live = if i % 2 == 0 {
                "is-live=true"
            } else {
                "num-buffers=8"
            };
            let pipeline = Pipeline::launch(&format!(
                "videotestsrc {live} ! video/x-raw,width=16,height=16 ! appsink wait-on-eos=false"
            ))
            .unwrap();
            pipeline.play().unwrap();
            pipeline.request_eos();
            match i % 3 {
                0 => drop(pipeline),
                1 => pipeline.stop().unwrap(),
                _ => {
                    let _ = pipeline.play();
                    pipeline.stop().unwrap();
                }
            }
        }
    });
}

/// `request_eos()` called again and again, from several threads at once, while the sources
/// act on the first: GStreamer's `GstBaseSrc` aborted the process when a second EOS flushed
/// the first away under its streaming thread (`gst_base_src_loop: assertion failed:
/// has_pending_eos`; the Python API fuzz found it). A run sends its EOS once.
#[test]
fn request_eos_again_and_again_from_many_threads_ends_the_pipeline_once() {
    bounded(120, || {
        for _ in 0..150 {
            let pipeline = std::sync::Arc::new(
                Pipeline::launch(
                    "videotestsrc is-live=true ! video/x-raw,format=GRAY8,width=16,height=16,\
                     framerate=200/1 ! appsink wait-on-eos=false",
                )
                .unwrap(),
            );
            pipeline.play().unwrap();
            // Two threads ask until the pipeline has ended, each wait a little apart so that
            // some requests land while the sources act on an earlier one.
            std::thread::scope(|scope| {
                for _ in 0..2 {
                    let pipeline = &pipeline;
                    scope.spawn(move || {
                        for _ in 0..10_000 {
                            pipeline.request_eos();
                            let limit = Duration::from_micros(200);
                            if pipeline.watch().wait_outcome(limit).is_some() {
                                break;
                            }
                        }
                    });
                }
            });
            pipeline.wait_timeout(Duration::from_secs(10)).unwrap();
            pipeline.stop().unwrap();
        }
    });
}

/// The EOS is sent once a run, not once a pipeline: played again after a stop, the pipeline
/// ends again at `request_eos()`.
#[test]
fn request_eos_ends_each_run_of_a_replayed_pipeline() {
    bounded(60, || {
        let pipeline = Pipeline::launch(
            "videotestsrc is-live=true ! video/x-raw,width=16,height=16 ! appsink wait-on-eos=false",
        )
        .unwrap();
        for run in 0..3 {
            pipeline.play().unwrap();
            pipeline.request_eos();
            pipeline.request_eos();
            assert_eq!(
                pipeline.watch().wait_outcome(Duration::from_secs(10)),
                Some(Outcome::Eos),
                "run {run}"
            );
            pipeline.stop().unwrap();
        }
    });
}

/// The last reference to a pipeline dropped inside its own appsink callback (as a garbage
/// collector running there may do) must not deadlock: Null is set from another thread.
#[test]
fn dropping_a_pipeline_on_its_own_streaming_thread_does_not_deadlock() {
    bounded(30, || {
        let pipeline =
            Pipeline::launch("videotestsrc ! video/x-raw,width=16,height=16 ! appsink name=out")
                .unwrap();
        let appsink: gst_app::AppSink = pipeline.element("out").unwrap();
        let gst_pipeline = pipeline.gst().clone();
        let watch = pipeline.watch();
        let slot = std::sync::Arc::new(std::sync::Mutex::new(Some(pipeline)));
        let (dropped, done) = std::sync::mpsc::channel();
        let in_callback = std::sync::Arc::clone(&slot);
        appsink.set_callbacks(
            gst_app::AppSinkCallbacks::builder()
                .new_sample(move |sink| {
                    let _ = sink.pull_sample();
                    if let Some(pipeline) = in_callback.lock().unwrap().take() {
                        drop(pipeline); // the last reference, on the streaming thread
                        let _ = dropped.send(());
                    }
                    Ok(gst::FlowSuccess::Ok)
                })
                .build(),
        );
        slot.lock().unwrap().as_ref().unwrap().play().unwrap();
        done.recv_timeout(Duration::from_secs(10)).unwrap();
        // Told once Null is set.
        assert_eq!(
            watch.wait_outcome(Duration::from_secs(10)),
            Some(Outcome::Stopped)
        );
        let (_, state, _) = gst_pipeline.state(gst::ClockTime::ZERO);
        assert_eq!(state, gst::State::Null);
    });
}

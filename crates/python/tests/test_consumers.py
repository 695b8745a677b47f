"""An appsink feeds one reader: a second one is refused at the call, naming the appsink and
the reader it has, instead of silently taking the first one's frames."""

import pytest

import gstpipe


def test_a_second_on_frame_is_refused_at_the_call():
    seen = []
    with gstpipe.Pipeline("videotestsrc num-buffers=5 ! appsink name=out") as p:
        handle = p.on_frame(lambda f: seen.append(f.pts))
        with pytest.raises(gstpipe.Error, match=r"out.*already has a consumer \(on_frame\)"):
            p.on_frame(lambda f: None)
        with pytest.raises(gstpipe.Error, match="already has a consumer"):
            p.frames()
        p.play()
        assert handle.wait(timeout=10) == 5
    # The refused readers took nothing: the first callback saw every frame.
    assert len(seen) == 5


def test_an_iterator_dropped_lets_the_next_reader_in():
    with gstpipe.Pipeline("videotestsrc num-buffers=4 ! appsink name=out") as p:
        it = p.frames()
        with pytest.raises(gstpipe.Error, match="already has a consumer"):
            p.on_frame(lambda f: None)
        del it
        assert len(list(p.frames())) == 4

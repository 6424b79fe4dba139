"""The book's animations (``lstm_figures.anim``): real moving GIFs, still frames, alt text, true numbers.

Fast (no book build). Each animation is built once with every warning turned into an error, then
checked as a file (Pillow decodes it; the frames really differ; sizes stay under a cap), as HTML
(the figure, the reduced-motion still frame, the alt text) and against an independent source of
its numbers: ``lstm_ref.data`` for the windows and the stateful layout, and
``torch.nn.utils.rnn.pack_padded_sequence`` for ``batch_sizes``. The browser side (the images
decode in chromium; reduced motion selects the still frame) is in ``tests/test_book.py``.
"""

from __future__ import annotations

import base64
import io
import time
import warnings
from html.parser import HTMLParser

import numpy as np
import pytest
from PIL import Image

from lstm_figures import anim
from lstm_ref import data

MAX_GIF = 400 * 1024  # bytes; the book carries the GIFs inside its pages
MAX_PNG = 100 * 1024
MAX_SIDE = 800  # pixels
MAX_SECONDS = 600  # per animation: catches a hang, not a slow day (usually 1 to 4 s; speed is not tested)

AIRLINE = data.load_airline()[:16]
rng = np.random.default_rng(0)
X_IN = rng.normal(size=(2, 6, 3))  # (B, T, F)
OUT = np.tanh(rng.normal(size=(2, 6, 4)))  # (B, T, H)

CASES = {
    "window_slide": lambda: anim.window_slide(AIRLINE, look_back=4, name="airline passengers"),
    "unrolled_loop": lambda: anim.unrolled_loop(X_IN, OUT),
    "stateful_streams": lambda: anim.stateful_streams(36, batch_size=3, seq_len=4),
    "packed_batch_sizes": lambda: anim.packed_batch_sizes([5, 2, 7, 4]),
}


def build(make):
    """Run ``make()`` with every warning as an error (a notebook would show it as stderr)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t0 = time.perf_counter()
        a = make()
        return a, time.perf_counter() - t0


@pytest.fixture(scope="module")
def built() -> dict:
    return {name: build(make) for name, make in CASES.items()}


@pytest.fixture(params=list(CASES))
def case(request, built):
    return built[request.param][0]


def gif_frames(gif: bytes) -> list[np.ndarray]:
    im = Image.open(io.BytesIO(gif))
    assert im.format == "GIF"
    frames = []
    for k in range(im.n_frames):
        im.seek(k)
        frames.append(np.asarray(im.convert("RGB")))
    return frames


class _Figure(HTMLParser):
    """The tags and attributes of an animation's HTML, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.caption = ""
        self._in_caption = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_caption = tag == "figcaption" or self._in_caption

    def handle_endtag(self, tag):
        if tag == "figcaption":
            self._in_caption = False

    def handle_data(self, text):
        if self._in_caption:
            self.caption += text


def test_gif_decodes_and_moves(case):
    """The GIF decodes, has ``frames`` frames, loops, and every frame differs from the one before."""
    frames = gif_frames(case.gif)
    assert len(frames) == case.frames > 1
    assert Image.open(io.BytesIO(case.gif)).info.get("loop") == 0  # loops forever
    assert frames[0].shape == (case.height, case.width, 3)
    still = [k for k in range(1, len(frames)) if np.array_equal(frames[k], frames[k - 1])]
    assert not still, f"frames {still} repeat the frame before them"
    changed = np.mean(np.any(frames[0] != frames[-1], axis=-1))
    assert changed > 0.01, f"first and last frames differ in only {changed:.2%} of the pixels"


def test_static_frame(case):
    """The still PNG decodes, has the GIF's size, and is the animation's last (fullest) frame."""
    png = Image.open(io.BytesIO(case.static_png))
    assert png.format == "PNG"
    assert png.size == (case.width, case.height)
    last = gif_frames(case.gif)[-1].astype(int)
    diff = np.abs(np.asarray(png.convert("RGB")).astype(int) - last)
    assert diff.mean() < 2.0, f"the still frame is not the last frame (mean |difference| {diff.mean():.1f})"


def test_html(case):
    """The HTML is a figure.lstm-anim: a reduced-motion PNG source, the GIF img with alt text, a caption."""
    page = _Figure()
    page.feed(case._repr_html_())
    tags = [t for t, _ in page.tags]
    assert tags == ["figure", "picture", "source", "img", "figcaption"]
    figure, _, source, img, _ = (a for _, a in page.tags)
    assert "lstm-anim" in figure["class"].split()
    assert source["media"] == "(prefers-reduced-motion: reduce)"
    assert source["srcset"].startswith("data:image/png;base64,")
    assert base64.b64decode(source["srcset"].split(",", 1)[1]) == case.static_png
    assert img["src"].startswith("data:image/gif;base64,")
    assert base64.b64decode(img["src"].split(",", 1)[1]) == case.gif
    assert img["alt"] == case.alt and len(case.alt) > 80 and case.alt.startswith("Animation:")
    assert (int(img["width"]), int(img["height"])) == (case.width, case.height)
    assert page.caption.strip() == case.caption and "reduced motion" in case.caption
    assert "Animation" in repr(case) and f"{case.frames} frames" in repr(case)


def test_sizes_and_speed(built):
    """Every GIF is under MAX_GIF, every still under MAX_PNG, and each was made in under MAX_SECONDS."""
    for name, (a, seconds) in built.items():
        print(f"{name}: {a.frames} frames, {a.width}x{a.height}, GIF {len(a.gif)} B, PNG {len(a.static_png)} B, {seconds:.2f} s")  # fmt: skip
        assert len(a.gif) < MAX_GIF, name
        assert len(a.static_png) < MAX_PNG, name
        assert max(a.width, a.height) <= MAX_SIDE, name
        assert 8 <= a.frames <= 60, name
        assert seconds < MAX_SECONDS, name


def test_deterministic():
    """The same arguments give the same bytes (no clock, no unseeded randomness)."""
    one, two = build(CASES["stateful_streams"])[0], build(CASES["stateful_streams"])[0]
    assert one.gif == two.gif and one.static_png == two.static_png


def test_window_slide_matches_make_windows(built):
    """The windows drawn are exactly lstm_ref.data.make_windows's X and y, one frame pair per window."""
    a = built["window_slide"][0]
    X, y = data.make_windows(AIRLINE, look_back=4)
    assert len(a.meta["X"]) == len(X) == len(AIRLINE) - 4 - 1 + 1
    np.testing.assert_array_equal(a.meta["X"], X)
    np.testing.assert_array_equal(a.meta["y"], y)
    assert a.frames == 2 * len(X)
    assert f"({len(X)}, 4, 1)" in a.alt
    for horizon in (1, 3):
        b = anim.window_slide(np.arange(12.0), look_back=3, horizon=horizon)
        X, y = data.make_windows(np.arange(12.0), look_back=3, horizon=horizon)
        np.testing.assert_array_equal(b.meta["X"], X)
        np.testing.assert_array_equal(b.meta["y"], y)


def test_stateful_layout_matches_lstm_ref(built):
    """The positions drawn are lstm_ref.data.stateful_arrays's, batch by batch, with the same drop."""
    a = built["stateful_streams"][0]
    X = data.stateful_arrays(np.arange(36), batch_size=3, seq_len=4)  # (n_batches * 3, 4, 1)
    np.testing.assert_array_equal(a.meta["positions"], X[:, :, 0].reshape(-1, 3, 4))
    for n_rows, b, s in ((40, 4, 5), (23, 2, 5), (30, 3, 3)):
        got = anim.stateful_streams(n_rows, batch_size=b, seq_len=s).meta
        X = data.stateful_arrays(np.arange(n_rows), batch_size=b, seq_len=s)
        np.testing.assert_array_equal(got["positions"], X[:, :, 0].reshape(-1, b, s))
        assert got["dropped_rows"] == data.stateful_layout(n_rows, b, s).dropped_rows


def test_packed_batch_sizes_match_torch(built):
    """batch_sizes and the fill order of packed.data are torch's pack_padded_sequence's, row for row."""
    torch = pytest.importorskip("torch")
    from torch.nn.utils.rnn import pack_padded_sequence

    def packed(lengths):
        B, T = len(lengths), max(lengths)
        x = torch.arange(B, dtype=torch.float32)[:, None, None].expand(B, T, 1)  # x[b] = b everywhere
        return pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)

    a = built["packed_batch_sizes"][0]
    p = packed([5, 2, 7, 4])
    assert a.meta["batch_sizes"] == p.batch_sizes.tolist() == [4, 4, 3, 3, 2, 1, 1]
    assert a.meta["order"] == p.data[:, 0].long().tolist()  # which sequence each packed row comes from
    assert a.meta["sorted_indices"] == p.sorted_indices.tolist()
    assert str(a.meta["batch_sizes"]) in a.alt
    for lengths in ([3], [1, 1, 1], [2, 6, 6, 3, 1], [4, 3, 2, 1]):
        b = anim.packed_batch_sizes(lengths, batch_sizes=packed(lengths).batch_sizes.tolist())
        assert b.meta["batch_sizes"] == packed(lengths).batch_sizes.tolist()
        sorted_lengths = [lengths[i] for i in packed(lengths).sorted_indices.tolist()]
        assert [lengths[i] for i in b.meta["sorted_indices"]] == sorted_lengths  # ties may differ
    with pytest.raises(ValueError, match=r"do not match lengths"):
        anim.packed_batch_sizes([5, 2, 7, 4], batch_sizes=[4, 4, 3, 3, 2, 1])


def test_unrolled_loop_shapes(built):
    """The output strip grows one step per time step, to (B, T, H); bad shapes are refused."""
    a = built["unrolled_loop"][0]
    assert a.meta["shapes"] == [(2, t, 4) for t in range(1, 7)]
    assert "(2, 6, 4)" in a.alt and "same weights" in a.alt
    with pytest.raises(ValueError, match=r"same B, T"):
        anim.unrolled_loop(X_IN, OUT[:, :5])


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: anim.window_slide(np.arange(40.0), look_back=3), "do not fit"),
        (lambda: anim.window_slide(np.zeros((10, 2))), r"expected shape \(N,\)"),
        (lambda: anim.stateful_streams(5, batch_size=3, seq_len=4), "batches"),
        (lambda: anim.packed_batch_sizes([3, 0]), "lengths"),
    ],
)
def test_bad_arguments_are_refused(make, message):
    """Arguments the frame cannot show raise a ValueError that says why."""
    with pytest.raises(ValueError, match=message):
        make()

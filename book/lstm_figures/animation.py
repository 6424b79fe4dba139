"""The machinery behind the book's animations: frames drawn with matplotlib, encoded as a GIF.

:func:`render` draws every frame on one Agg canvas (no pyplot state), encodes an animated GIF and a
still PNG with Pillow (:func:`quantize` keeps flat diagram colours exact), and returns an
:class:`Animation`, which a notebook shows as HTML:

    <figure class="lstm-anim"><picture>
      <source media="(prefers-reduced-motion: reduce)" srcset="data:image/png;base64,...">
      <img src="data:image/gif;base64,..." alt="..." width=... height=...>
    </picture><figcaption>...</figcaption></figure>

Both images are data URIs, so the animation travels inside the executed notebook and the built
page: no files to manage, no CDN, no ffmpeg. Readers whose system asks for reduced motion get the
still PNG (the most informative frame) instead of the GIF. The animations themselves are in
:mod:`lstm_figures.anim`.

>>> def draw(fig, k):
...     diagram(fig, (0, 0, 1, 1), 10, 10).text(k + 1, 5, str(k))
>>> render(draw, [100, 100], 1, (60, 40), "two frames", "a test", {})
<Animation 60x40, 2 frames, GIF 0 KB: a test>
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from . import i18n

__all__ = ["Animation", "diagram", "render"]

DPI = 112  # with the sizes in pixels fixed, a higher dpi only makes the text larger
MAX_COLORS = 128  # GIF palette: the most frequent exact colours (flat fills stay exact, files stay small)


@dataclass(frozen=True)
class Animation:
    """An animated GIF with its still frame, alt text and caption; Jupyter shows it as HTML.

    Attributes:
        gif: the animated GIF (bytes), looping forever.
        static_png: the still frame shown when the reader asks for reduced motion (bytes).
        alt: what the animation shows and what moves, for screen readers.
        caption: the visible caption.
        frames: number of frames in ``gif``.
        width, height: size in pixels of both images.
        meta: the numbers the frames draw (arrays, lists), for checks in the book and tests.
    """

    gif: bytes
    static_png: bytes
    alt: str
    caption: str
    frames: int
    width: int
    height: int
    meta: dict = field(default_factory=dict, repr=False)
    translations: dict = field(default_factory=dict, repr=False)  # lang -> the same, translated (i18n)

    def _repr_mimebundle_(self, include=None, exclude=None):
        """The English HTML; each translation's HTML (or why there is none) in the metadata. A live
        notebook in a translated language (``i18n.shown_language``) shows that language's HTML."""
        from .i18n import shown_language

        meta = {}
        for lang, tr in self.translations.items():
            meta[lang] = {k: tr[k] for k in ("texts", "missing", "error") if k in tr}
            if "gif" in tr:
                meta[lang]["text/html"] = self._html(tr["gif"], tr["static_png"], tr["alt"], tr["caption"])
        html = meta.get(shown_language(), {}).get("text/html") or self._repr_html_()
        return {"text/html": html}, {"lstm_i18n": meta}

    def _repr_html_(self) -> str:
        return self._html(self.gif, self.static_png, self.alt, self.caption)

    def _html(self, gif: bytes, png: bytes, alt: str, caption: str) -> str:
        gif = base64.b64encode(gif).decode("ascii")
        png = base64.b64encode(png).decode("ascii")
        return (
            '<figure class="lstm-anim" style="margin: 1em 0;">'
            "<picture>"
            '<source media="(prefers-reduced-motion: reduce)" type="image/png" '
            f'srcset="data:image/png;base64,{png}">'
            f'<img src="data:image/gif;base64,{gif}" alt="{html.escape(alt, quote=True)}" '
            f'width="{self.width}" height="{self.height}" style="max-width: 100%; height: auto;">'
            "</picture>"
            f'<figcaption style="font-size: 0.9em;">{html.escape(caption)}</figcaption>'
            "</figure>"
        )

    def __repr__(self) -> str:
        return (
            f"<Animation {self.width}x{self.height}, {self.frames} frames, "
            f"GIF {len(self.gif) // 1024} KB: {self.caption}>"
        )


def render(
    draw: Callable[[Figure, int], None],
    durations: Sequence[int],
    static: int,
    size: tuple[int, int],
    alt: str,
    caption: str,
    meta: dict,
    *,
    clear: bool = True,
) -> Animation:
    """Draw frame ``k`` with ``draw(fig, k)`` for every entry of ``durations`` (ms); encode GIF + PNG.

    With ``clear=False`` the figure is not cleared between frames: ``draw`` updates its artists. Each
    frame is also drawn once more per translation, its labels translated for that one draw
    (``lstm_figures.i18n.translated``): the translated animation is the same frames.
    """
    fig = Figure(figsize=(size[0] / DPI, size[1] / DPI), dpi=DPI)  # size: (width, height) in pixels
    canvas = FigureCanvasAgg(fig)
    langs = {lang: {"missing": set(), "seen": set(), "rgb": []} for lang in i18n.TRANSLATIONS}
    for state in langs.values():
        try:
            i18n.use_cjk_font()
        except Exception as exc:  # the English still shows; the translated build reports it
            state["error"] = f"{type(exc).__name__}: {exc}"
    rgb = []
    for k in range(len(durations)):
        if clear:
            fig.clear()
        draw(fig, k)
        rgb.append(_snapshot(canvas))
        for lang, state in langs.items():
            if "error" not in state:
                with i18n.translated(fig, lang, state["missing"], state["seen"]):
                    state["rgb"].append(_snapshot(canvas))
    gif, png = _encode(rgb, durations, static)
    translations = {}
    for lang, state in langs.items():
        tr = {"error": state["error"]} if "error" in state else {}
        if not tr:
            try:
                tr["gif"], tr["static_png"] = _encode(state["rgb"], durations, static)
            except RuntimeError as exc:
                tr = {"error": str(exc)}
        tr.update(alt=i18n.translate(alt, lang, state["missing"]))
        tr.update(caption=i18n.translate(caption, lang, state["missing"]))
        seen = state["seen"] | {t for t in (alt, caption) if i18n.needs(t)}
        translations[lang] = {**tr, "texts": sorted(seen), "missing": sorted(state["missing"])}
    w, h = rgb[0].size
    return Animation(gif, png, alt, caption, len(durations), w, h, meta, translations)


def _snapshot(canvas: FigureCanvasAgg) -> Image.Image:
    """The canvas drawn now, as an RGB image."""
    canvas.draw()
    return Image.fromarray(np.asarray(canvas.buffer_rgba())[..., :3].copy())


def _encode(rgb: list[Image.Image], durations: Sequence[int], static: int) -> tuple[bytes, bytes]:
    """The frames as an animated GIF (looping) and frame ``static`` as a still PNG."""
    frames = quantize(rgb, MAX_COLORS)
    buf = io.BytesIO()
    frames[0].save(
        buf, format="GIF", save_all=True, append_images=frames[1:], duration=list(durations), loop=0
    )
    png = io.BytesIO()
    quantize([rgb[static]], 256)[0].save(png, format="PNG", optimize=True)
    n = Image.open(io.BytesIO(buf.getvalue())).n_frames
    if n != len(durations):  # Pillow merges a frame identical to the one before it
        raise RuntimeError(f"two consecutive frames are identical: the GIF kept {n} of {len(durations)}")
    return buf.getvalue(), png.getvalue()


def quantize(images: Sequence[Image.Image], n: int) -> list[Image.Image]:
    """The RGB ``images`` as "P" images sharing one palette: their ``n`` most frequent exact colours.

    Flat diagram colours (white, the fills, the text) are the most frequent, so they stay exact
    and flat: no dithering noise, and consecutive frames differ only where something moved. Rarer
    anti-aliasing shades map to the nearest palette colour. (Pillow's own ``quantize(palette=...)``
    looks colours up in coarse boxes, which turns white into light grey.)
    """
    arr = np.stack([np.asarray(im) for im in images]).astype(np.int32)  # (frames, h, w, 3)
    codes = (arr[..., 0] << 16) | (arr[..., 1] << 8) | arr[..., 2]  # (frames, h, w)
    uniq, counts = np.unique(codes[:, ::2, ::2], return_counts=True)  # every 4th pixel is plenty
    top = uniq[np.argsort(-counts, kind="stable")[:n]]  # the palette, commonest first
    by_code = np.argsort(top)
    pos = by_code[np.searchsorted(top[by_code], codes).clip(max=len(top) - 1)]  # (frames, h, w)
    index = pos.astype(np.uint8)
    miss = top[pos] != codes  # shades not in the palette: map each to its nearest palette colour
    shades, inverse = np.unique(codes[miss], return_inverse=True)
    rgb = lambda c: np.stack([(c >> 16) & 255, (c >> 8) & 255, c & 255], axis=-1)  # noqa: E731
    dist = ((rgb(shades)[:, None, :] - rgb(top)[None, :, :]) ** 2).sum(axis=-1)  # (shades, n)
    index[miss] = dist.argmin(axis=1).astype(np.uint8)[inverse]
    palette = rgb(np.concatenate([top, np.full(256 - len(top), top[0])])).astype(np.uint8).ravel().tolist()
    out = []
    for frame in index:
        im = Image.fromarray(frame)  # mode "L"; putpalette turns it into "P" with these colours
        im.putpalette(palette)
        out.append(im)
    return out


def diagram(fig: Figure, rect: Sequence[float], xlim: float, ylim: float):
    """Axes without ticks whose data units are a drawing grid ``[0, xlim] x [0, ylim]``."""
    ax = fig.add_axes(rect)
    ax.set_xlim(0, xlim)
    ax.set_ylim(0, ylim)
    ax.set_axis_off()
    return ax

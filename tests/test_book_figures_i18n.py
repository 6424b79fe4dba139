"""lstm_figures.i18n and lstm_figures.mystnb: figure labels and code comments in the zh_CN edition.

Checked against hand-written sources and catalogues: which comments are found (a ``#`` in a string is
not one), how a translated comment replaces the English without touching code, which labels need a
translation, ``{}`` patterns, and that a translated figure is really drawn with the CJK font.
"""

from __future__ import annotations

import base64
import io
import pickle
import warnings
from types import SimpleNamespace

import matplotlib.pyplot as plt
import pytest
from PIL import Image

from lstm_figures import animation, i18n, mystnb

SOURCE = """x = 1  # the batch axis first
# one window per row,
# then the targets
s = "# not a comment"  # noqa: E501
def f():
    # inside a function
    return (1,  # first value
            2)
y = x  # (B, T, F)
"""

TABLE = {
    "the batch axis first": "批次轴在前",
    "one window per row,\nthen the targets": "每行一个窗口，\n然后是目标\n（三行）",
    "inside a function": "在函数内",
    "first value": "第一个值",
    "time steps": "时间步",
    "batch": "批次",
    "features": "特征",
    "loss after {} epochs": "{} 轮之后的损失",
    "features = {}": "特征 = {}",
    "{} = {}": "{} = {}",
    "two frames": "两帧",
    "a test": "一个测试",
}


@pytest.fixture
def catalogue(monkeypatch):
    """lstm_figures.i18n reading TABLE as both its figures.po and its comments.po."""
    fake = lambda domain, lang: TABLE  # noqa: E731
    fake.cache_clear = lambda: None
    monkeypatch.setattr(i18n, "catalogue", fake)
    return TABLE


def test_comments_found_grouped_and_filtered():
    assert i18n.comments(SOURCE) == [
        (1, 1, 7, "the batch axis first"),
        (2, 3, 0, "one window per row,\nthen the targets"),
        (6, 6, 4, "inside a function"),
        (7, 7, 16, "first value"),
    ]  # the string's "#", the noqa directive and the shape-only comment are not translated
    assert i18n.comments("x = (1,  # an unclosed bracket\n") == []  # not Python: nothing to translate


def test_translate_comments_keeps_the_code(catalogue):
    out = i18n.translate_comments(SOURCE, "zh_CN")
    assert out.splitlines() == [
        "x = 1  # 批次轴在前",
        "# 每行一个窗口，",
        "# 然后是目标",
        "# （三行）",
        's = "# not a comment"  # noqa: E501',
        "def f():",
        "    # 在函数内",
        "    return (1,  # 第一个值",
        "            2)",
        "y = x  # (B, T, F)",
    ]
    compile(out, "<zh>", "exec")  # still the same Python
    missing: set[str] = set()
    i18n.translate_comments(SOURCE + "z = 2  # an untranslated comment\n", "zh_CN", missing)
    assert missing == {"an untranslated comment"}


@pytest.mark.parametrize(
    "text, needs",
    [("h_t", False), ("(4, 6, 3)", False), ("LSTM", False), ("T = 5", False), ("x[0]", False),
     ("(num_layers*directions, batch, hidden)", False), ("h_n[-2]", False),
     ("time steps", True), ("look_back = 5, horizon = 3", True), ("PyTorch, seed 0", True),
     ("h, c\n(zeros)", True), ("RMSE (thousand passengers)", True)],
)  # fmt: skip
def test_needs(text, needs):
    assert i18n.needs(text) is needs


def test_translate_exact_pattern_lines_and_missing(catalogue):
    missing: set[str] = set()
    assert i18n.translate("time steps", "zh_CN", missing) == "时间步"
    assert i18n.translate("loss after 30 epochs", "zh_CN", missing) == "30 轮之后的损失"
    assert i18n.translate("batch\nfeatures", "zh_CN", missing) == "批次\n特征"
    assert i18n.translate("(B, T, F)", "zh_CN", missing) == "(B, T, F)"
    assert i18n.translate("an unknown label", "zh_CN", missing) == "an unknown label"
    assert i18n.translate("features = 3", "zh_CN", missing) == "特征 = 3"  # the most specific pattern
    # a pattern whose matched part stays English does not translate half a label: it is missing
    assert (
        i18n.translate("features = 1: one value per cell", "zh_CN", missing)
        == "features = 1: one value per cell"
    )
    assert missing == {"an unknown label", "features = 1: one value per cell"}


def _figure():
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1], [0, 1], label="batch")
    ax.set_xlabel("time steps")
    ax.set_xticks([0, 1], ["batch", "features"])
    ax.set_title("loss after 30 epochs")
    ax.legend()
    plt.close(fig)
    return fig


def test_translated_figure_has_every_label_in_chinese(catalogue):
    fig = _figure()
    copy = pickle.loads(pickle.dumps(fig))
    missing, seen = set(), set()
    i18n.translate_artists(copy, "zh_CN", missing, seen)
    ax = copy.axes[0]
    assert ax.get_xlabel() == "时间步" and ax.get_title() == "30 轮之后的损失"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["批次"]
    copy.canvas.draw()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["批次", "特征"]
    assert missing == set() and {"time steps", "batch", "features", "loss after 30 epochs"} <= seen
    assert fig.axes[0].get_xlabel() == "time steps"  # the English figure is untouched


def test_figure_bundle_draws_chinese_glyphs(catalogue):
    """The zh PNG differs from the English one and matplotlib found a glyph for every character."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data, meta = i18n.figure_bundle(_figure())
    assert not [w for w in caught if "missing from font" in str(w.message)], [str(w.message) for w in caught]
    zh = meta["lstm_i18n"]["zh_CN"]
    assert zh["missing"] == [] and "error" not in zh
    en_png, zh_png = (base64.b64decode(x) for x in (data["image/png"], zh["image/png"]))
    assert en_png != zh_png
    assert Image.open(io.BytesIO(zh_png)).format == "PNG"


def test_animation_carries_its_translation(catalogue):
    def draw(fig, k):
        ax = animation.diagram(fig, (0, 0, 1, 1), 10, 10)
        ax.text(k + 1, 5, "batch")

    anim = animation.render(draw, [100, 100], 1, (80, 40), "two frames", "a test", {})
    data, meta = anim._repr_mimebundle_()
    zh = meta["lstm_i18n"]["zh_CN"]
    assert zh["missing"] == [] and "batch" in zh["texts"]
    assert "一个测试" in zh["text/html"] and "两帧" in zh["text/html"] and "a test" in data["text/html"]
    assert zh["text/html"] != data["text/html"].replace("a test", "一个测试").replace("two frames", "两帧")


@pytest.fixture
def shown_in(monkeypatch):
    """``shown_in("zh_CN")``: lstm_ref's language (and so a live notebook's figures) for this test only."""
    import lstm_ref

    monkeypatch.delenv("LSTM_REF_LANG", raising=False)
    yield lstm_ref.set_language
    lstm_ref.set_language(None)


def test_a_live_notebook_shows_figures_in_lstm_refs_language(catalogue, shown_in):
    """A chapter's zh twin sets lstm_ref's language; Jupyter then shows the Chinese drawing (the book's
    English build, and an English notebook, the English one), and animations likewise."""
    fig = _figure()
    english, meta = i18n.figure_bundle(fig)
    shown_in("zh_CN")
    chinese, meta_zh = i18n.figure_bundle(fig)
    assert chinese["image/png"] == meta_zh["lstm_i18n"]["zh_CN"]["image/png"] != english["image/png"]
    assert english["image/png"] != meta["lstm_i18n"]["zh_CN"]["image/png"]

    def draw(fig, k):
        ax = animation.diagram(fig, (0, 0, 1, 1), 10, 10)
        ax.text(k + 1, 5, "batch")

    anim = animation.render(draw, [100, 100], 1, (80, 40), "two frames", "a test", {})
    data, meta = anim._repr_mimebundle_()
    assert data["text/html"] == meta["lstm_i18n"]["zh_CN"]["text/html"] and "一个测试" in data["text/html"]
    shown_in("en")
    assert "a test" in anim._repr_mimebundle_()[0]["text/html"]


def test_without_a_cjk_font_a_live_figure_stays_english_and_says_why(catalogue, shown_in, monkeypatch):
    def no_font():
        raise FileNotFoundError("no CJK font at /nowhere")

    monkeypatch.setattr(i18n, "use_cjk_font", no_font)
    i18n._warn_once.cache_clear()
    shown_in("zh_CN")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data, meta = i18n.figure_bundle(_figure())
        i18n.figure_bundle(_figure())
    assert "error" in meta["lstm_i18n"]["zh_CN"] and "image/png" in data
    said = [str(w.message) for w in caught]
    assert len(said) == 1 and "stay in English" in said[0] and "no CJK font" in said[0], said


def test_an_installed_package_reads_the_catalogues_of_the_book_folder(monkeypatch, tmp_path):
    """Installed (Colab), lstm_figures has no book/locales beside it: it reads ./locales, the folder
    the Colab cell works in (the course's book/)."""
    book = i18n.LOCALES.parent
    i18n.catalogue.cache_clear()
    here = i18n.catalogue("figures", "zh_CN")
    assert len(here) > 20
    monkeypatch.setattr(i18n, "LOCALES", tmp_path / "site-packages" / "locales")
    i18n.catalogue.cache_clear()
    try:
        monkeypatch.chdir(tmp_path)
        assert i18n.catalogue("figures", "zh_CN") == {}
        i18n.catalogue.cache_clear()
        monkeypatch.chdir(book)
        assert i18n.catalogue("figures", "zh_CN") == here
    finally:
        i18n.catalogue.cache_clear()


class _Renderer:
    """What lstm_figures.mystnb uses of myst-nb's NbElementRenderer."""

    def __init__(self, language):
        self.renderer = SimpleNamespace(sphinx_env=SimpleNamespace(config=SimpleNamespace(language=language)))
        self.warnings: list[str] = []
        self.logger = SimpleNamespace(warning=lambda msg, **kw: self.warnings.append(msg))

    def render_image(self, data):
        return ["image", data.content]

    def render_text_html(self, data):
        return ["html", data.content]


def _data(mime, content, meta):
    from myst_nb.core.render import MimeData

    return MimeData(mime, content, output_metadata={"lstm_i18n": meta}, cell_index=3, line=10)


def test_mystnb_plugin_shows_the_edition_language():
    meta = {"zh_CN": {"image/png": "ZH", "texts": ["batch"], "missing": []}}
    assert mystnb.LanguagePlugin.handle_mime(_Renderer("zh_CN"), _data("image/png", "EN", meta), False) == [
        "image",
        "ZH",
    ]
    assert mystnb.LanguagePlugin.handle_mime(_Renderer("en"), _data("image/png", "EN", meta), False) is None
    r = _Renderer("zh_CN")
    bad = {"zh_CN": {"image/png": "ZH", "texts": ["batch"], "missing": ["batch"]}}
    mystnb.LanguagePlugin.handle_mime(r, _data("image/png", "EN", bad), False)
    assert r.warnings and "figures.po" in r.warnings[0] and "'batch'" in r.warnings[0]
    r = _Renderer("zh_CN")
    mystnb.LanguagePlugin.handle_mime(r, _data("image/png", "EN", {"zh_CN": {"error": "no font"}}), False)
    assert r.warnings and "no font" in r.warnings[0]

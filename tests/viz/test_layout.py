"""The layout engine: which one is picked, what each can write, errors that say what to do, PNG text on both."""

import io
import os
import shutil

import graphviz
import pytest

matplotlib_image = pytest.importorskip("matplotlib.image")

from viz import layout  # noqa: E402
from viz.layout import LaidOutDigraph, LayoutEngineMissing, LayoutFailed, run_layout, write_drawing  # noqa: E402

SYSTEM_DOT = shutil.which("dot")
BUNDLED = layout._bundled_binary()


def hide_system_dot(monkeypatch):
    """Make `dot` unfindable on PATH (the bundled engine is found without PATH)."""
    monkeypatch.setenv("PATH", "")


def hide_every_engine(monkeypatch):
    hide_system_dot(monkeypatch)
    monkeypatch.setattr(layout, "_bundled_binary", lambda: None)


# Both real engines, each test run once per engine available here (CI installs both).
ENGINES = [
    pytest.param("system", marks=pytest.mark.skipif(not SYSTEM_DOT, reason="no Graphviz dot on PATH")),
    pytest.param("bundled", marks=pytest.mark.skipif(not BUNDLED, reason="graphviz-pure is not installed")),
]


@pytest.fixture(params=ENGINES)
def engine(request, monkeypatch):
    """Run the test with the system dot (when on PATH) and then with the bundled graphviz-pure alone."""
    if request.param == "bundled":
        hide_system_dot(monkeypatch)
        assert layout.layout_engine().startswith("graphviz-pure at ")
    else:
        assert layout.layout_engine() == f"dot at {SYSTEM_DOT}"
    return request.param


def test_system_dot_comes_first_when_on_path():
    if not SYSTEM_DOT:
        pytest.skip("no Graphviz dot on PATH")
    assert layout.layout_engine() == f"dot at {SYSTEM_DOT}"


def test_bundled_engine_is_found_from_the_distribution_files_not_path(monkeypatch):
    if not BUNDLED:
        pytest.skip("graphviz-pure is not installed")
    hide_system_dot(monkeypatch)
    engines = layout.find_engines()
    assert [engine.name for engine in engines] == ["graphviz-pure"]
    assert os.path.samefile(engines[0].path, BUNDLED)
    svg = run_layout("digraph { a -> b }", "svg")
    assert b"<svg" in svg


def test_pdf_without_graphviz_is_one_error_that_existing_handlers_catch(monkeypatch, tmp_path):
    hide_system_dot(monkeypatch)
    with pytest.raises(graphviz.ExecutableNotFound) as caught:
        write_drawing("digraph { a -> b }", tmp_path / "g.pdf")
    message = str(caught.value)
    assert isinstance(caught.value, LayoutEngineMissing)
    assert "PDF" in message and "pip install graphviz-pure" in message and "apt install graphviz" in message
    assert str(tmp_path / "g.dot") in message
    assert sorted(os.listdir(tmp_path)) == ["g.dot"]  # the DOT text, and nothing half-written
    assert (tmp_path / "g.dot").read_text() == "digraph { a -> b }"


def test_without_any_engine_dot_files_still_work_and_images_raise(monkeypatch, tmp_path):
    hide_every_engine(monkeypatch)
    assert layout.layout_engine().startswith("none: ")
    write_drawing("digraph { a -> b }", tmp_path / "g.dot")
    assert (tmp_path / "g.dot").read_text() == "digraph { a -> b }"
    for suffix in ("svg", "png"):
        with pytest.raises(LayoutEngineMissing, match="no layout engine found"):
            write_drawing("digraph { a -> b }", tmp_path / f"h.{suffix}")
    assert sorted(os.listdir(tmp_path)) == ["g.dot", "h.dot"]


def test_notebook_display_without_engine_is_a_line_and_the_source_not_a_traceback(monkeypatch):
    hide_every_engine(monkeypatch)
    digraph = LaidOutDigraph()
    digraph.edge("a", "b")
    bundle = digraph._repr_mimebundle_()
    assert list(bundle) == ["text/plain"]
    first_line, rest = bundle["text/plain"].split("\n", 1)
    assert first_line.startswith("(cannot draw this graph here: no layout engine found")
    assert digraph.source in rest


def test_notebook_display_with_an_engine_is_svg():
    digraph = LaidOutDigraph()
    digraph.edge("a", "b")
    bundle = digraph._repr_mimebundle_()
    assert bundle["image/svg+xml"].lstrip().startswith(("<?xml", "<svg"))


def test_digraph_render_writes_only_the_image_atomically(engine, tmp_path):
    digraph = LaidOutDigraph(filename="graph.gv", directory=str(tmp_path), format="svg")
    digraph.edge("a", "b")
    path = digraph.render()
    assert path == os.path.join(str(tmp_path), "graph.svg")
    assert digraph.render(outfile=tmp_path / "other.png") == str(tmp_path / "other.png")
    assert sorted(os.listdir(tmp_path)) == ["graph.svg", "other.png"]  # no .gv, no temp file
    assert (tmp_path / "other.png").read_bytes().startswith(b"\x89PNG")


def test_bad_dot_is_a_layout_error_naming_the_engine(engine):
    with pytest.raises(LayoutFailed, match="failed"):
        run_layout("digraph { a -> }", "svg")


def _ink(png_bytes):
    """Number of dark pixels in a PNG (luminance below one half)."""
    pixels = matplotlib_image.imread(io.BytesIO(png_bytes), format="png")
    luminance = pixels[..., :3].mean(axis=-1)
    return int((luminance < 0.5).sum())


def test_png_text_is_drawn_as_glyphs_not_boxes(engine):
    # A row of "W" carries far more ink than a row of "." in any real font;
    # an engine without fonts draws both as the same row of boxes.
    def text_png(text):
        return run_layout(f'digraph {{ a [shape=plaintext label="{text}" fontsize=24] }}', "png")

    ink_wide, ink_dots = _ink(text_png("W" * 12)), _ink(text_png("." * 12))
    assert ink_dots > 0
    assert ink_wide > 5 * ink_dots

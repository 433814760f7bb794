"""Every picture shows once in a real Jupyter kernel, and ``plt.show()`` shows it in a script.

The kernel tests run a notebook of a learner's cells through ipykernel + nbclient and
read what each cell displayed. The script tests run fresh interpreters: with Agg
nothing is kept anywhere; with WebAgg (an interactive backend that needs no display)
``plt.show()`` serves the figure, which is downloaded from the server and compared
with the same figure rendered here.
"""

import ast
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")
from matplotlib.image import imread  # noqa: E402

from tests import kernel  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]

SETUP = """\
import numpy as np
from IPython.display import display
from micrograd_it import Value
from micrograd_it.losses import mse
from micrograd_it.nn import MLP
from viz import draw_dot, draw_network
from viz.plots import activation_gallery, activation_hist, saturation_map
from viz.display import draws_figure, new_figure, pending_figures
h = np.tanh(np.random.default_rng(0).normal(0.0, 3.0, size=(32, 50)))
a, b = Value(2.0, label="a"), Value(-3.0, label="b")
o = (a * b + a).tanh(); o.label = "o"; o.backward()
net = MLP(2, [4, 1], seed=0)
with net.trace() as tr:
    loss = mse([net([0.1 * i, -0.2 * i]) for i in range(6)], [0.5] * 6)
loss.backward()
"""

BROKEN = """\
@draws_figure
def broken():
    new_figure((2, 2)).add_subplot()
    raise KeyboardInterrupt  # as if Ctrl-C arrived while drawing
try:
    broken()
except KeyboardInterrupt:
    print("queued after the interrupt:", len(pending_figures()))
"""

# (cell source, the (output_type, mime types) it must produce, in order)
PNG, TEXT = ["image/png", "text/plain"], ["text/plain"]
GRAPH = ["image/svg+xml", "text/html", "text/plain"]
CELLS = [
    ("draw_dot(o)", [("execute_result", GRAPH)]),
    ("saturation_map(h)", [("execute_result", TEXT), ("display_data", PNG)]),
    ("activation_hist(h)", [("execute_result", TEXT), ("display_data", PNG)]),
    ("saturation_map(h).figure", [("execute_result", PNG)]),
    ("ax = saturation_map(h)\nax.set_title('changed after the call')\nprint('not the last expression')",
     [("display_data", PNG)]),
    ("saturation_map(h); activation_hist(h); None", [("display_data", PNG), ("display_data", PNG)]),
    ("fig = activation_hist(h).figure\ndisplay(fig)\nax = saturation_map(h)",
     [("display_data", PNG), ("display_data", PNG)]),
    ("activation_gallery(xs=[-1.0, 0.0, 1.0])", [("execute_result", PNG)]),
    ("tr", [("execute_result", ["text/html", "text/plain"])]),
    ("tr.layers[0]", [("execute_result", ["text/html", "text/plain"])]),
    ("o", [("execute_result", ["text/html", "text/plain"])]),
    ("draw_network(net, tr)", [("execute_result", GRAPH)]),
    ("saturation_map(h, threshold=2)", []),  # the error: no figure is left behind to show
    (BROKEN, []),
    ("import matplotlib.pyplot as plt\nactivation_hist(h)\nplt.show()", [("display_data", PNG)]),
    ("%matplotlib inline\nsaturation_map(h)", [("execute_result", TEXT), ("display_data", PNG)]),
    ("saturation_map(h).figure", [("execute_result", PNG)]),
    ("fig, ax = plt.subplots()\nsaturation_map(h, ax=ax)", [("execute_result", TEXT), ("display_data", PNG)]),
]


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    sources = [SETUP] + [source for source, _ in CELLS]
    notebook = kernel.code_notebook(sources)
    notebook.cells[CELLS.index(("saturation_map(h, threshold=2)", [])) + 1].metadata["tags"] = ["raises-exception"]
    return kernel.execute(notebook, cwd=tmp_path_factory.mktemp("kernel")).cells[1:]


@pytest.mark.parametrize("index", range(len(CELLS)), ids=[source.splitlines()[-1][:40] for source, _ in CELLS])
def test_each_cell_displays_what_it_should_once(executed, index):
    source, expected = CELLS[index]
    assert kernel.outputs_by_mime(executed[index]) == expected, source


def test_an_interrupted_figure_function_leaves_nothing_to_show(executed):
    cell = executed[[source for source, _ in CELLS].index(BROKEN)]
    assert [output.text for output in cell.outputs if output.output_type == "stream"] == [
        "queued after the interrupt: 0\n"]


def test_the_shown_picture_is_the_figure_at_the_end_of_the_cell(executed):
    # the title set after the call is in the picture: compare with the same figure drawn here
    import base64
    import io

    from viz.plots import saturation_map

    h = np.tanh(np.random.default_rng(0).normal(0.0, 3.0, size=(32, 50)))
    ax = saturation_map(h)
    ax.set_title("changed after the call")
    buffer = io.BytesIO()
    ax.figure.savefig(buffer, format="png")
    (shown,) = [output for output in executed[4].outputs if "image/png" in output.get("data", {})]
    shown_pixels = imread(io.BytesIO(base64.b64decode(shown.data["image/png"])))
    assert np.array_equal(shown_pixels, imread(io.BytesIO(buffer.getvalue())))


def test_graph_html_is_the_svg_inline(executed):
    bundle = executed[0].outputs[0].data
    assert bundle["text/html"].startswith('<div class="micrograd-it-graph"')
    assert "<?xml" not in bundle["text/html"] and "<!DOCTYPE" not in bundle["text/html"]
    svg = bundle["image/svg+xml"]  # the same drawing: one layout, the <svg> element told to fit the width
    fitted = svg[svg.index("<svg"):].replace("<svg", '<svg style="max-width:100%;height:auto"', 1)
    assert bundle["text/html"] == f'<div class="micrograd-it-graph">{fitted}</div>'


# -- scripts --------------------------------------------------------------------------------------

def run_script(code, timeout=120, **env):
    """Run `code` in a fresh interpreter (in the project folder); return its stdout. Fails on a non-zero exit."""
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                            timeout=timeout, cwd=ROOT, env={**_clean_env(), **env})
    assert result.returncode == 0, result.stderr
    return result.stdout


def _clean_env():
    import os

    return {key: value for key, value in os.environ.items() if key != "MPLBACKEND"}


def test_a_script_keeps_no_figure_anywhere_with_a_non_interactive_backend():
    out = run_script("""
        import sys, warnings
        warnings.simplefilter("error")  # plt.show() would warn if it had a figure it cannot show
        import numpy as np
        from viz.plots import saturation_map
        ax = saturation_map(np.eye(3))
        print("pyplot imported by viz:", "matplotlib.pyplot" in sys.modules)
        import matplotlib.pyplot as plt
        ax = saturation_map(np.eye(3))
        print("figures in pyplot:", plt.get_fignums())
        plt.show()
    """, MPLBACKEND="agg")
    assert out.splitlines() == ["pyplot imported by viz: False", "figures in pyplot: []"]


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_plt_show_in_a_script_with_an_interactive_backend_shows_the_figure(tmp_path):
    pytest.importorskip("tornado")
    port, downloaded = _free_port(), tmp_path / "shown.png"
    out = run_script(f"""
        import os, threading, time, urllib.request
        import matplotlib
        matplotlib.use("webagg")
        import matplotlib.pyplot as plt
        plt.rcParams.update({{"webagg.open_in_browser": False, "webagg.port": {port}, "webagg.port_retries": 1}})
        import numpy as np
        from viz.display import draws_figure, new_figure
        from viz.plots import saturation_map

        @draws_figure
        def broken():
            new_figure((2, 2))
            raise KeyboardInterrupt
        try:
            broken()
        except KeyboardInterrupt:
            print("after an interrupted figure:", plt.get_fignums())
        h = np.tanh(np.random.default_rng(0).normal(0.0, 3.0, size=(32, 50)))
        ax = saturation_map(h)  # the seed's habit: call the function, then plt.show()
        print("figures in pyplot:", plt.get_fignums(), plt.gcf() is ax.figure)

        def download():  # plt.show() blocks while it serves the figures: fetch ours, then stop
            for _ in range(600):
                try:
                    with urllib.request.urlopen("http://127.0.0.1:{port}/1/download.png", timeout=5) as page:
                        open({str(downloaded)!r}, "wb").write(page.read())
                    print("served", flush=True)
                    os._exit(0)
                except OSError:
                    time.sleep(0.1)
            os._exit(3)
        threading.Thread(target=download, daemon=True).start()
        plt.show()
    """)
    assert out.splitlines()[:2] == ["after an interrupted figure: []", "figures in pyplot: [1] True"]
    assert "served" in out
    from viz.plots import saturation_map

    h = np.tanh(np.random.default_rng(0).normal(0.0, 3.0, size=(32, 50)))
    expected = tmp_path / "expected.png"
    saturation_map(h).figure.savefig(expected, format="png")
    assert np.array_equal(imread(downloaded), imread(expected))


def test_library_code_never_calls_show_or_imports_pyplot():
    for path in sorted((ROOT / "viz").glob("*.py")) + sorted((ROOT / "micrograd_it").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                assert node.func.attr != "show", f"{path.name}:{node.lineno} calls .show()"
            if isinstance(node, ast.Import):
                assert "matplotlib.pyplot" not in [alias.name for alias in node.names], f"{path.name}:{node.lineno}"
            if isinstance(node, ast.ImportFrom):
                assert node.module != "matplotlib.pyplot" and not (
                    node.module == "matplotlib" and "pyplot" in [alias.name for alias in node.names]), path.name


def test_outside_jupyter_nothing_is_queued():
    from viz.display import pending_figures
    from viz.plots import saturation_map

    saturation_map(np.eye(3))
    assert pending_figures() == []

"""Running notebook cells in a fresh Jupyter kernel (ipykernel through nbclient), as a learner would.

`execute(notebook, cwd)` runs every cell in a new kernel of the interpreter
running the tests (`messages=[]` also collects every iopub message the kernel sent, with the index
of its cell); `outputs_by_mime(cell)` lists what a cell displayed;
COUNT_FIGURES / REPORT_FIGURES count the matplotlib Figures each cell made.
"""

import os

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

# A first cell that records, for every cell run after it, how many matplotlib Figures were made during
# it (any Figure: ours, pyplot's, a user's Figure()), keyed by the cell's source (the execution
# count is no key: IPython 8 and 9 number a cell at different moments; two identical cells would add up); REPORT_FIGURES, run
# last, prints the counts as JSON.
COUNT_FIGURES = """\
import json as _json, matplotlib.figure as _mf
_figures_made, _cell = {}, [None]
_init = _mf.Figure.__init__
def _counting_init(self, *args, **kwargs):
    _init(self, *args, **kwargs)
    _figures_made[_cell[0]] = _figures_made.get(_cell[0], 0) + 1
_mf.Figure.__init__ = _counting_init
def _pre_run_cell(info):
    _cell[0] = info.raw_cell
get_ipython().events.register("pre_run_cell", _pre_run_cell)
"""
REPORT_FIGURES = "print(_json.dumps(_figures_made))"


class _RecordingClient(nbclient.NotebookClient):
    """nbclient's client, keeping (cell index, message) of every iopub message it processes."""

    def __init__(self, *args, messages, **kwargs):
        super().__init__(*args, **kwargs)
        self.recorded = messages

    def process_message(self, msg, cell, cell_index):
        self.recorded.append((cell_index, msg))
        return super().process_message(msg, cell, cell_index)


def execute(notebook, cwd, timeout=300, messages=None):
    """Run `notebook` (an nbformat node, changed in place) top to bottom in a fresh kernel; return it.

    The kernel is the interpreter running the tests (jupyter_client puts sys.executable for the
    kernelspec's "python"), started in `cwd` with our environment minus any MPLBACKEND, so that
    matplotlib's backend is the one Jupyter picks. Raises nbclient's CellExecutionError at the
    first cell that raises.
    """
    env = {key: value for key, value in os.environ.items() if key != "MPLBACKEND"}
    if messages is None:
        client = nbclient.NotebookClient(notebook, timeout=timeout, kernel_name="python3")
    else:
        client = _RecordingClient(notebook, timeout=timeout, kernel_name="python3", messages=messages)
    client.execute(cwd=str(cwd), env=env)
    return notebook


def code_notebook(cells):
    """A notebook of code cells from a list of source strings."""
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in cells])


def outputs_by_mime(cell):
    """Return [(output_type, sorted mime types)] of a cell's displayed outputs (streams and errors left out)."""
    return [(output.output_type, sorted(output.data)) for output in cell.outputs
            if output.output_type in ("display_data", "execute_result")]


def png_count(cell):
    """How many image/png outputs the cell produced."""
    return sum("image/png" in output.get("data", {}) for output in cell.outputs)

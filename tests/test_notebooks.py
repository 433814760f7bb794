"""The tour notebooks in demos/: committed clean, and each runs top to bottom in a fresh Jupyter kernel.

A run fails on any error or anything written to stderr (a warning included), and on a
cell that made matplotlib Figures without showing each one exactly once as image/png
(the Figures are counted inside the kernel, whoever made them: viz or the learner's pyplot).
A notebook with a live training view (metadata micrograd_it.live_view) is also checked from the
kernel's own messages (tests/live_checks.py).
"""

import copy
import json
import re
from pathlib import Path

import pytest

from tests import kernel, live_checks

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "demos").glob("*.ipynb"))


def test_there_are_tour_notebooks():
    assert len(NOTEBOOKS) >= 3, NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_a_committed_notebook_has_no_outputs(path):
    notebook = kernel.nbformat.read(path, as_version=4)
    kernel.nbformat.validate(notebook)
    dirty = [index for index, cell in enumerate(notebook.cells)
             if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)]
    assert not dirty, f"{path.name}: cells {dirty} hold outputs; clear them before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_the_notebooks_page_links_every_notebook(path):
    page = (ROOT / "docs" / "notebooks.md").read_text()
    assert f"(../demos/{path.name})" in page


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_a_notebook_runs_in_a_fresh_kernel_and_shows_every_figure_once(path, tmp_path):
    notebook = copy.deepcopy(kernel.nbformat.read(path, as_version=4))
    for package in notebook.metadata.get("micrograd_it", {}).get("needs", []):  # an optional extra, e.g. torch
        pytest.importorskip(package, reason=f"{path.name} needs {package}, which is not installed")
    lesson_cells = len(notebook.cells)
    live_view = notebook.metadata.get("micrograd_it", {}).get("live_view", False)
    notebook.cells.insert(0, kernel.nbformat.v4.new_code_cell(kernel.COUNT_FIGURES))
    if live_view:
        notebook.cells.append(kernel.nbformat.v4.new_code_cell(live_checks.FINAL_NUMBERS))
    notebook.cells.append(kernel.nbformat.v4.new_code_cell(kernel.REPORT_FIGURES))
    messages = []
    kernel.execute(notebook, cwd=tmp_path, messages=messages)  # a fresh folder: nothing is written into the checkout
    if live_view:
        live_checks.check_messages(messages, json.loads(notebook.cells[-2].outputs[0].text))

    report = notebook.cells[-1].outputs[0].text
    made = json.loads(report)  # {cell source: Figures made while it ran}
    problems = []
    for index, cell in enumerate(notebook.cells[1:lesson_cells + 1]):
        if cell.cell_type != "code":
            continue
        where = f"cell {index} ({cell.source.splitlines()[0][:50]!r})"
        stderr = [output.text for output in cell.outputs if output.get("name") == "stderr"]
        if stderr:
            problems.append(f"{where} wrote to stderr: {''.join(stderr)[:300]}")
        figures, pictures = made.get(cell.source, 0), kernel.png_count(cell)
        if figures != pictures:
            problems.append(f"{where} made {figures} figure(s) but showed {pictures} image/png output(s)")
    assert not problems, f"{path.name}:\n" + "\n".join(problems)


def test_markdown_cells_have_no_numbers_that_a_run_computes():
    # Numbers of results live in code cells that display Markdown; static prose may only quote
    # the lesson's own constants. A crude guard: no decimal with 3+ digits after the point.
    typed = re.compile(r"\d\.\d{3,}")
    for path in NOTEBOOKS:
        notebook = kernel.nbformat.read(path, as_version=4)
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type == "markdown":
                assert not typed.search(cell.source), f"{path.name} cell {index}: {typed.search(cell.source)[0]}"

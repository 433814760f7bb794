"""Where a new figure of viz goes: shown once in Jupyter, shown by ``plt.show()``, silent in a plain script.

Every figure function of viz that makes its own figure (no ``ax=``/``fig=``
given) gets it from `new_figure`, which decides once, at creation:

1. pyplot is already imported and its backend is interactive (Qt, Tk, macOS,
   nbagg, widget...): the figure is made by ``pyplot.figure`` so that pyplot
   manages it like its own, and the seed's habit -- call the function, then
   ``plt.show()`` -- shows it. With ``plt.ion()`` it appears at once, as any
   pyplot figure does. Only here does viz touch pyplot's list of figures.
2. inside a Jupyter (IPython) kernel otherwise (the inline backend, or no
   pyplot at all): a plain Figure, queued to be displayed at the end of the
   cell through IPython's ``post_execute`` event. A figure displayed earlier in
   that cell (it is the cell's value, or was passed to ``display()``) leaves
   the queue, so each figure shows once. Whatever the cell did to the figure
   after the call (a title, a second line) is in the picture.
3. anywhere else (a script, a test, a headless server): a plain Figure,
   never registered anywhere and freed like any object; nothing opens a window.

Why not always use pyplot: a script that draws a thousand figures into files
with a non-interactive backend would keep all of them alive in pyplot's list.
Why not only ``_repr_png_``: a figure that is not the cell's last expression,
or the second of two figures in a cell, would never be shown
(ipython/ipython#12190 is the same gap for a bare matplotlib Figure).
Library code never calls ``plt.show()`` and never imports pyplot.
"""

import functools
import io
import os
import sys
import threading

import matplotlib
import matplotlib.figure

from micrograd_it.files import atomic_write

__all__ = ["Figure", "new_figure", "draws_figure", "pending_figures"]

# Figures made in the running cell that are still to be displayed at its end; emptied after every cell.
_pending = []
# Per thread, one list per figure function running (innermost last): the figures it made so far.
_calls = threading.local()


class Figure(matplotlib.figure.Figure):
    """A matplotlib Figure that Jupyter displays as a PNG, and that knows it was displayed.

    Behaves like its base class in every other way (same repr, axes), except that `savefig` onto a
    file path writes the file atomically.
    """

    def savefig(self, fname, *args, **kwargs):
        """matplotlib's savefig; a path (str or os.PathLike) is written atomically, as `atomic_write` does:
        a reader never sees half a file, a symlink's target is written, an existing file keeps its mode,
        and an error names `fname`. The format comes from `format=`, else the suffix, else
        rcParams["savefig.format"] (then added to the name, as matplotlib does). Returns None."""
        if not isinstance(fname, (str, os.PathLike)):
            return super().savefig(fname, *args, **kwargs)
        path = os.fspath(fname)
        fmt = kwargs.pop("format", None)
        if fmt is None:
            fmt = os.path.splitext(path)[1][1:].lower()
            if not fmt:
                fmt = matplotlib.rcParams["savefig.format"]
                path = f"{path}.{fmt}"
        buffer = io.BytesIO()
        super().savefig(buffer, *args, format=fmt, **kwargs)
        atomic_write(path, buffer.getvalue())
        return None

    def _repr_mimebundle_(self, include=None, exclude=None):
        # IPython asks for this before any other format whenever it displays the figure: it is being
        # shown now, so the end-of-cell display must skip it. The picture itself comes from
        # _repr_png_ (or from the formatter `%matplotlib inline` registers for every Figure).
        _forget(self)
        return None

    def _repr_png_(self):
        """Return the figure as PNG bytes, rendered as `viz.save.save_figure` writes it."""
        buffer = io.BytesIO()
        self.savefig(buffer, format="png")
        return buffer.getvalue()


def _kernel_shell():
    """The IPython shell of a Jupyter kernel we run in, or None (a script, the terminal IPython)."""
    ipython = sys.modules.get("IPython")  # never imported here: if it is not loaded, we are not in a kernel
    shell = ipython.get_ipython() if ipython is not None else None
    return shell if getattr(shell, "kernel", None) is not None else None


def _interactive_pyplot():
    """pyplot when the user imported it and its backend draws in windows (or widgets), else None."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is None:
        return None
    from matplotlib.backends import backend_registry

    _, gui = backend_registry.resolve_backend(pyplot.get_backend())
    return pyplot if gui is not None else None


def new_figure(figsize, layout="constrained"):
    """Return a new viz `Figure` of `figsize` inches, placed as the module docstring says (1, 2 or 3)."""
    pyplot = _interactive_pyplot()
    if pyplot is not None:
        figure = pyplot.figure(figsize=figsize, layout=layout, FigureClass=Figure)
    else:
        figure = Figure(figsize=figsize, layout=layout)
        shell = _kernel_shell()
        if shell is not None:
            if _show_pending not in shell.events.callbacks["post_execute"]:
                shell.events.register("post_execute", _show_pending)
            _pending.append(figure)
    for made in getattr(_calls, "stack", ())[-1:]:
        made.append(figure)
    return figure


def draws_figure(function):
    """Decorator of a figure function: when it raises (Ctrl-C included), the figures it made are withdrawn.

    Withdrawn means: not displayed at the end of the Jupyter cell, and closed in
    pyplot when pyplot manages them, as if the call had not started.
    """
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        stack = _calls.__dict__.setdefault("stack", [])
        stack.append([])
        try:
            return function(*args, **kwargs)
        except BaseException:
            for figure in stack[-1]:
                _withdraw(figure)
            raise
        finally:
            stack.pop()

    return wrapper


def _withdraw(figure):
    _forget(figure)
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None and figure.canvas.manager is not None:
        pyplot.close(figure)


def pending_figures():
    """Return the figures of the running cell not yet displayed (a list copy; always empty outside Jupyter)."""
    return list(_pending)


def _forget(figure):
    """Drop `figure` from the queue (identity, not ==: two figures are never the same one)."""
    _pending[:] = [queued for queued in _pending if queued is not figure]


def _show_pending():
    """post_execute: display, in order of creation, every figure of the cell not displayed yet, then forget them."""
    from IPython.display import display

    queued = list(_pending)
    _pending.clear()  # first: a figure that fails to render is reported once, not at every later cell
    for figure in queued:
        display(figure)

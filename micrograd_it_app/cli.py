"""The `micrograd-it` command: `study` (the saturation study and its report), `demo NAME`, `graph "EXPR"`,
`explore "EXPR"` (a page that steps through backward).

Every mistake a user can make ends as one line on stderr and a non-zero exit
code, never a traceback; Ctrl-C stops cleanly (exit code 130) and keeps the
files already written.
"""

import argparse
import ast
import importlib
import importlib.util
import os
import sys

from micrograd_it.expr import ExpressionError, build, parse_bindings

from ._interrupt import catch_interrupts
from ._output import UserError, prepare_out_dir

__all__ = ["main", "DEMOS", "demo_summary"]

PROG = "micrograd-it"
DEMO_PACKAGE = "micrograd_it_demos"  # the demos/ folder, installed under this name (see setup.cfg)
DEMOS = ["neuron_graph", "activations", "saturation", "moons", "dead_relu", "char_mlp", "makemore_torch"]


class _UsageError(Exception):
    """A bad flag or argument, reported by argparse."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise _UsageError(f"{message} (see {self.prog} --help)")


def _positive_int(text):
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {number}")
    return number


def _positive_float(text):
    try:
        number = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not number > 0 or number == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text!r}")
    return number


def build_parser():
    """Return the argparse parser of the command (subcommands study, demo, graph)."""
    parser = _Parser(prog=PROG, description="A scalar autograd engine that shows where and why gradients die.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    # Not required at argparse level, so that `micrograd-it --bogus` names the
    # unknown flag; a missing COMMAND is reported in _main instead.
    commands.required = False

    study = commands.add_parser("study", help="the tanh saturation study: figures and report.html",
                                description="Train a character-level MLP three ways (bad init, fixed init, "
                                "too-high learning rate) and write figures and report.html.")
    study.add_argument("--out", default="micrograd-it-out", help="output folder (default: %(default)s)")
    study.add_argument("--seed", type=int, default=0, help="random seed of everything (default: %(default)s)")
    study.add_argument("--steps", type=_positive_int, default=None, help="training steps per configuration")
    study.add_argument("--lr", type=_positive_float, default=None, help="learning rate of the two init configs")
    study.add_argument("--high-lr", type=_positive_float, default=None, help="the too-high learning rate")
    study.add_argument("--hidden", type=_positive_int, default=None, help="hidden neurons when training")
    study.add_argument("--batch", type=_positive_int, default=None, help="samples per training step")
    study.add_argument("--seeds", type=_positive_int, default=None,
                       help="train the too-high learning rate from this many seeds (default 5; 1: only --seed)")
    study.add_argument("--full", action="store_true",
                       help="train at the seed's full size (32 samples x 200 hidden neurons; slow)")
    study.add_argument("--torch", action="store_true",
                       help="add a section: the seed's model in PyTorch at its size, traced (needs PyTorch)")
    study.add_argument("--torch-steps", type=_positive_int, default=None,
                       help="training steps of the PyTorch section's two inits (default 10000)")
    study.set_defaults(run=_run_study)

    demo = commands.add_parser("demo", help="run one of the demos (--list to see them)")
    demo.add_argument("name", nargs="?", help="demo name")
    demo.add_argument("--list", action="store_true", help="list the demos")
    demo.add_argument("--out", default=None, help="output folder (default: micrograd-it-out/NAME)")
    demo.set_defaults(run=_run_demo)

    graph = commands.add_parser("graph", help='draw the graph of an expression, e.g. "tanh(x*w + b)" x=2 w=-3 b=6.9')
    graph.add_argument("expression", help="arithmetic over variables and tanh, exp, log, sigmoid, relu, ...")
    graph.add_argument("values", nargs="*", metavar="NAME=NUMBER", help="value of each variable")
    graph.add_argument("--out", default="graph.svg", help="output file: .svg, .png or .dot (default: %(default)s)")
    graph.set_defaults(run=_run_graph)

    explore = commands.add_parser("explore", help='a page that steps through backward of an expression, '
                                  'e.g. "tanh(x*w + b)" x=2 w=-3 b=6.9')
    explore.add_argument("expression", help="arithmetic over variables and tanh, exp, log, sigmoid, relu, ...")
    explore.add_argument("values", nargs="*", metavar="NAME=NUMBER", help="value of each variable")
    explore.add_argument("--out", default="explore.html", help="output page, .html (default: %(default)s)")
    explore.set_defaults(run=_run_explore)
    return parser


def main(argv=None):
    """Run the command with `argv` (default: sys.argv[1:]); return the exit code (0 on success)."""
    with catch_interrupts() as interrupts:
        code = _main(argv)
    if interrupts.interrupted and code != 130:  # a Ctrl-C that Python swallowed and no checkpoint saw
        _say("interrupted; the files written so far are kept")
        return 130
    return code


def _main(argv):
    try:
        args = build_parser().parse_args(argv)
        if args.command is None:
            raise _UsageError(f"a COMMAND is needed: study, demo, graph or explore (see {PROG} --help)")
        return args.run(args) or 0
    except _UsageError as error:
        _say(f"error: {error}")
        return 2
    except (UserError, ExpressionError) as error:
        _say(f"error: {error}")
        return 1
    except KeyboardInterrupt:
        _say("interrupted; the files written so far are kept")
        return 130
    except BrokenPipeError:  # e.g. `micrograd-it demo --list | head -1`: the reader left, nothing to report
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - so the interpreter's final flush stays quiet
        return 1
    except SystemExit as exit_:  # --help and --version
        return exit_.code if isinstance(exit_.code, int) else 0


def _say(message):
    """Write one line to stderr, prefixed by the command's name."""
    sys.stderr.write(f"{PROG}: {message}\n")
    sys.stderr.flush()


def _import(module_name, what=None):
    """Import a module that needs an extra (viz, or torch); raise UserError saying which to install if it is missing.

    `what` names what needs it in the message (default: the module).
    """
    try:
        return importlib.import_module(module_name)
    except ImportError as error:
        if (error.name or "").split(".")[0] == "torch":
            raise UserError(f"{what or module_name} needs PyTorch, which is not installed; "
                            "install the torch extra: pip install 'micrograd_it[torch]'") from None
        raise UserError(f"{module_name} cannot be imported ({error}); "
                        "install the viz extra: pip install 'micrograd_it[viz]'") from None


# -- study ---------------------------------------------------------------------

def _run_study(args):
    study = _import("micrograd_it_app.study")  # matplotlib is imported only when needed
    for needed in ("micrograd_it_app._study_figures", "micrograd_it_app.report"):  # matplotlib, Jinja2
        _import(needed)  # missing extras are one line now, not a traceback after the training
    if args.torch:
        _import(f"{DEMO_PACKAGE}.makemore_torch", what="study --torch")

    options = study.StudyOptions.from_args(args)
    out_dir = prepare_out_dir(args.out)
    result = study.run_study(out_dir, options)
    print(study.format_table(result))
    return 0


# -- demos ---------------------------------------------------------------------

def _demo_path(name):
    spec = importlib.util.find_spec(f"{DEMO_PACKAGE}.{name}")
    if spec is None or spec.origin is None:
        raise UserError(f"demo {name!r} is not installed (looked for {DEMO_PACKAGE}.{name})")
    return spec.origin


def demo_summary(name):
    """Return the first line of demo `name`'s docstring, read without running it."""
    with open(_demo_path(name), encoding="utf-8") as source:
        docstring = ast.get_docstring(ast.parse(source.read())) or ""
    return docstring.strip().splitlines()[0] if docstring.strip() else ""


def _run_demo(args):
    if args.list or args.name is None:
        width = max(len(name) for name in DEMOS)
        for name in DEMOS:
            print(f"{name:<{width}}  {demo_summary(name)}")
        return 0
    if args.name not in DEMOS:
        raise UserError(f"unknown demo {args.name!r}; the demos are: {', '.join(DEMOS)}")
    out_dir = prepare_out_dir(args.out or os.path.join("micrograd-it-out", args.name))
    module = _import(f"{DEMO_PACKAGE}.{args.name}", what=f"demo {args.name}")
    module.main(out_dir)
    return 0


# -- graph ---------------------------------------------------------------------

def _run_graph(args):
    suffix = os.path.splitext(args.out)[1].lower()
    if suffix not in (".svg", ".png", ".dot"):
        raise UserError(f"--out must end in .svg, .png or .dot, got {args.out!r}")
    root, leaves = build(args.expression, parse_bindings(args.values))
    root.backward()
    graph = _import("viz.graph")
    prepare_out_dir(os.path.dirname(os.path.abspath(args.out)))
    try:
        graph.render(graph.draw_graph(root, format=suffix[1:]), args.out)
    except RuntimeError as error:  # no layout engine, or the engine failed (viz.layout's errors)
        raise UserError(f"cannot lay out the graph: {error}") from None
    except OSError as error:
        raise UserError(f"cannot write {args.out!r}: {error.strerror or error}") from None
    grads = ", ".join(f"d/d{name} = {leaf.grad:.6g}" for name, leaf in leaves.items())
    print(f"{args.expression} = {root.data:.6g}" + (f"; {grads}" if grads else ""))
    print(f"wrote {args.out}")
    return 0


# -- explore -------------------------------------------------------------------

def _run_explore(args):
    if os.path.splitext(args.out)[1].lower() not in (".html", ".htm"):
        raise UserError(f"--out must end in .html, got {args.out!r}")
    root, _ = build(args.expression, parse_bindings(args.values))
    if not root.label:
        root.label = "out"
    explore = _import("viz.explore")
    prepare_out_dir(os.path.dirname(os.path.abspath(args.out)))
    try:
        page = explore.explore(root)
    except RuntimeError as error:  # no layout engine, or the engine failed (viz.layout's errors)
        raise UserError(f"cannot lay out the graph: {error}") from None
    try:
        page.save(args.out)
    except OSError as error:
        raise UserError(f"cannot write {args.out!r}: {error.strerror or error}") from None
    print(f"{args.expression} = {root.data:.6g}: {len(page.data['order'])} steps of backward (the seed, then one per op)")
    print(f"wrote {args.out} (open it in a browser: it needs no network)")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""The `micrograd-it` command: `study` (the saturation study and its report), `demo NAME`, `graph "EXPR"`,
`explore "EXPR"` (a page that steps through backward).

Every mistake a user can make ends as one line on stderr and a non-zero exit
code, never a traceback (_errors.py: the exit codes); Ctrl-C (exit code 130)
and SIGTERM (143) stop cleanly and keep the files already written. The
console script enters through start.py, which takes the signals in hand
before this module's imports.
"""

import argparse
import ast
import importlib
import importlib.util
import inspect
import os
import sys

from micrograd_it.quoting import QUOTE_LIMIT, quote
from micrograd_it.expr import build, parse_bindings

from ._errors import UsageError, UserError, run_reporting, say_interrupted
from ._interrupt import catch_interrupts, exit_code, held
from ._mpl_home import ensure_matplotlib_home
from ._output import lock_out_dir, prepare_out_dir

__all__ = ["main", "DEMOS", "demo_summary"]

PROG = "micrograd-it"
DEMO_PACKAGE = "micrograd_it_demos"  # the demos/ folder, installed under this name (see setup.cfg)
DEMOS = ["neuron_graph", "activations", "saturation", "moons", "dead_relu", "char_mlp", "makemore_torch", "gpt", "deep_batchnorm"]
EXPRESSION_COMMANDS = ("graph", "explore")  # their first argument is an expression, which may start with "-"
MAX_SEED = 2**32 - 1  # what every generator of the study takes (PyTorch's too, for --torch)


class _Parser(argparse.ArgumentParser):
    argv = ()  # the arguments being parsed: argparse echoes some whole in its messages; _shortened cuts them

    def error(self, message):
        raise UsageError(f"{_shortened(message, self.argv)} (see {self.prog} --help)")


def _shortened(message, argv):
    """`message` with every long argument of `argv` that it echoes (as typed, or quoted) cut to QUOTE_LIMIT."""
    for argument in sorted({arg for arg in argv if len(arg) > QUOTE_LIMIT}, key=len, reverse=True):
        message = message.replace(repr(argument), quote(argument)).replace(argument, quote(argument))
    return message


def _whole_number(text):
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {quote(text)}") from None


def _positive_int(text):
    number = _whole_number(text)
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {quote(text)}")
    return number


def _seed(text):
    number = _whole_number(text)
    if not 0 <= number <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"expected a seed from 0 to {MAX_SEED}, got {quote(text)}")
    return number


def _positive_float(text):
    try:
        number = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {quote(text)}") from None
    if not number > 0 or number == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {quote(text)}")
    return number


def _path(text):
    if not text.strip() or "\0" in text:
        raise argparse.ArgumentTypeError(f"expected a file or folder name, got {quote(text)}")
    return text


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
    study.add_argument("--out", type=_path, default="micrograd-it-out", help="output folder (default: %(default)s)")
    study.add_argument("--seed", type=_seed, default=0, help="random seed of everything (default: %(default)s)")
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
                       help="add the lecture's table: the seed's model in PyTorch at its size, trained from the "
                            "lecture's four inits as the lecture trains it, beside its published losses (needs PyTorch)")
    study.add_argument("--torch-steps", type=_positive_int, default=None,
                       help="training steps per init of the lecture's table (default 200000, the lecture's; "
                            "fewer are not comparable with its published losses)")
    study.add_argument("--deep", action="store_true",
                       help="add a section: the lecture's deep tanh net, gains and BatchNorm (minutes; "
                            "with --torch also in PyTorch at the lecture's size)")
    study.add_argument("--deep-steps", type=_positive_int, default=None,
                       help="training steps of each deep-net configuration (default 1000)")
    study.set_defaults(run=_run_study)

    demo = commands.add_parser("demo", help="run one of the demos (--list to see them)")
    demo.add_argument("name", nargs="?", help="demo name")
    demo.add_argument("--list", action="store_true", help="list the demos")
    demo.add_argument("--out", type=_path, default=None, help="output folder (default: micrograd-it-out/NAME)")
    demo.add_argument("--steps", type=_positive_int, default=None,
                      help="training steps, for a demo that trains (e.g. gpt: default 200, microgpt's run is 1000)")
    demo.set_defaults(run=_run_demo)

    graph = commands.add_parser("graph", help='draw the graph of an expression, e.g. "tanh(x*w + b)" x=2 w=-3 b=6.9')
    graph.add_argument("expression", help="arithmetic over variables and tanh, exp, log, sigmoid, relu, ...")
    graph.add_argument("values", nargs="*", metavar="NAME=NUMBER", help="value of each variable")
    graph.add_argument("--out", type=_path, default="graph.svg", help="output file: .svg, .png or .dot (default: %(default)s)")
    graph.set_defaults(run=_run_graph)

    explore = commands.add_parser("explore", help='a page that steps through backward of an expression, '
                                  'e.g. "tanh(x*w + b)" x=2 w=-3 b=6.9')
    explore.add_argument("expression", help="arithmetic over variables and tanh, exp, log, sigmoid, relu, ...")
    explore.add_argument("values", nargs="*", metavar="NAME=NUMBER", help="value of each variable")
    explore.add_argument("--out", type=_path, default="explore.html", help="output page, .html (default: %(default)s)")
    explore.set_defaults(run=_run_explore)
    return parser


def main(argv=None):
    """Run the command with `argv` (default: sys.argv[1:]); return the exit code (0 on success, see _errors.py)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    ensure_matplotlib_home()  # before matplotlib is imported: its warnings about HOME would come before our lines
    try:
        with catch_interrupts() as interrupts:
            code = run_reporting(lambda: _main(argv))
    except KeyboardInterrupt as interrupt:  # in the instant between the handlers' start and run_reporting's
        return say_interrupted(exit_code(interrupt))
    if interrupts.interrupted and code != interrupts.code:  # a swallowed Ctrl-C that no checkpoint saw
        return say_interrupted(interrupts.code)
    return code


def _main(argv):
    parser = build_parser()
    _Parser.argv = argv
    try:
        args = parser.parse_args(_expression_first(argv, parser))
    finally:
        _Parser.argv = ()
    if args.command is None:
        raise UsageError(f"a COMMAND is needed: study, demo, graph or explore (see {PROG} --help)")
    return args.run(args)


def _expression_first(argv, parser):
    """`argv` where the expression of graph/explore may start with "-" (as in "-x*2"): for argparse it is an option.

    The subcommand's options (and their values) are moved before a "--", the
    other arguments after it, so argparse takes them all as positionals.
    Unknown options ("--bogus") stay options, to be reported as such.
    """
    command_at = next((i for i, arg in enumerate(argv) if not arg.startswith("-")), None)
    if command_at is None or argv[command_at] not in EXPRESSION_COMMANDS:
        return argv
    subparser = parser._subparsers._group_actions[0].choices[argv[command_at]]
    options, positionals, rest = [], [], iter(argv[command_at + 1:])
    for arg in rest:
        if arg == "--":
            positionals.extend(rest)
        elif arg.startswith("--") or arg in ("-h",):
            options.append(arg)
            action = _option_action(subparser, arg)
            if action is not None and action.nargs is None and "=" not in arg:  # its value is the next argument
                options.extend(_take_one(rest))
        else:
            positionals.append(arg)
    if not any(arg.startswith("-") for arg in positionals):
        return argv
    return argv[:command_at + 1] + options + ["--"] + positionals


def _take_one(rest):
    value = next(rest, None)
    return [] if value is None else [value]


def _option_action(subparser, arg):
    """The action of option `arg` of `subparser` (an unambiguous prefix counts, as for argparse); else None."""
    name = arg.split("=", 1)[0]
    actions = subparser._option_string_actions
    if name in actions:
        return actions[name]
    matches = {actions[option] for option in actions if option.startswith(name)}
    return matches.pop() if len(matches) == 1 else None


def _import(module_name, what=None):
    """Import a module that needs an extra (viz, or torch); raise UserError saying which to install if it is missing.

    `what` names what needs it in the message (default: the module).
    """
    try:
        with held():  # Ctrl-C waits for the import's end: a C extension cut in half can crash the interpreter
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
    from ._study_limits import SIZES, check

    if args.torch_steps is not None and not args.torch:
        raise UsageError(f"--torch-steps sets the PyTorch section's training: give --torch too (see {PROG} study --help)")
    if args.deep_steps is not None and not args.deep:
        raise UsageError(f"--deep-steps sets the deep-net section's training: give --deep too (see {PROG} study --help)")
    options = study.StudyOptions.from_args(args)
    check(options, len(study.dataset(options)[0]),  # sizes past this machine's limits: refused before anything runs
          given=[name for name in SIZES if getattr(args, name, None) is not None or args.full and name in ("hidden", "batch")])
    for needed in ("micrograd_it_app._study_figures", "micrograd_it_app.report"):  # matplotlib, Jinja2
        _import(needed)  # missing extras are one line now, not a traceback after the training
    if args.torch:
        _import("micrograd_it.torch_makemore", what="study --torch")
    out_dir = prepare_out_dir(args.out)
    with lock_out_dir(out_dir):  # a second study into the same folder is refused, not mixed with this one
        try:
            result = study.run_study(out_dir, options)
        except OSError as error:  # a file written by a library (a network map, a page): a full disk, a folder
            # made read-only meanwhile; the forked workers say the same (_parallel.py)
            where = f" {quote(error.filename)}" if isinstance(error.filename, str) else f" into {quote(args.out)}"
            raise UserError(f"cannot write{where}: {error.strerror or error}") from None
    print(study.format_table(result))
    return 0


# -- demos ---------------------------------------------------------------------

def _demo_path(name):
    spec = importlib.util.find_spec(f"{DEMO_PACKAGE}.{name}")
    if spec is None or spec.origin is None:
        raise UserError(f"demo {quote(name)} is not installed (looked for {DEMO_PACKAGE}.{name})")
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
        raise UserError(f"unknown demo {quote(args.name)}; the demos are: {', '.join(DEMOS)}")
    module = _import(f"{DEMO_PACKAGE}.{args.name}", what=f"demo {args.name}")
    options = {} if args.steps is None else {"steps": args.steps}
    if options and "steps" not in inspect.signature(module.main).parameters:
        raise UserError(f"demo {quote(args.name)} does not train: it takes no --steps")
    out_dir = prepare_out_dir(args.out or os.path.join("micrograd-it-out", args.name))
    with lock_out_dir(out_dir):
        module.main(out_dir, **options)
    return 0


# -- graph ---------------------------------------------------------------------

def _run_graph(args):
    suffix = os.path.splitext(args.out)[1].lower()
    if suffix not in (".svg", ".png", ".dot"):
        raise UserError(f"--out must end in .svg, .png or .dot, got {quote(args.out)}")
    root, leaves = build(args.expression, parse_bindings(args.values))
    try:
        root.backward()
    except (ArithmeticError, ValueError) as error:  # a gradient beyond the floats (the engine names the op)
        raise UserError(f"cannot differentiate {quote(args.expression.strip())} at these values: {error}") from None
    graph = _import("viz.graph")
    prepare_out_dir(os.path.dirname(os.path.abspath(args.out)))
    try:
        graph.render(graph.draw_graph(root, format=suffix[1:]), args.out)
    except RuntimeError as error:  # no layout engine, or the engine failed (viz.layout's errors)
        raise UserError(f"cannot lay out the graph: {error}") from None
    except OSError as error:
        raise UserError(f"cannot write {quote(args.out)}: {error.strerror or error}") from None
    grads = ", ".join(f"d/d{name} = {leaf.grad:.6g}" for name, leaf in leaves.items())
    print(f"{args.expression} = {root.data:.6g}" + (f"; {grads}" if grads else ""))
    print(f"wrote {args.out}")
    return 0


# -- explore -------------------------------------------------------------------

def _run_explore(args):
    if os.path.splitext(args.out)[1].lower() not in (".html", ".htm"):
        raise UserError(f"--out must end in .html, got {quote(args.out)}")
    root, _ = build(args.expression, parse_bindings(args.values))
    if not root.label:
        root.label = "out"
    explore = _import("viz.explore")
    prepare_out_dir(os.path.dirname(os.path.abspath(args.out)))
    try:
        page = explore.explore(root)
    except ArithmeticError as error:  # a gradient beyond the floats (the engine names the op)
        raise UserError(f"cannot differentiate {quote(args.expression.strip())} at these values: {error}") from None
    except RuntimeError as error:  # no layout engine, or the engine failed (viz.layout's errors)
        raise UserError(f"cannot lay out the graph: {error}") from None
    try:
        page.save(args.out)
    except OSError as error:
        raise UserError(f"cannot write {quote(args.out)}: {error.strerror or error}") from None
    print(f"{args.expression} = {root.data:.6g}: {len(page.data['order'])} steps of backward (the seed, then one per op)")
    print(f"wrote {args.out} (open it in a browser: it needs no network)")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""The command's door: Ctrl-C and SIGTERM are taken in hand before anything heavy is imported.

`micrograd-it` (setup.cfg's entry point) and `python -m micrograd_it` both
start here, and nothing else imports this module: importing it is what
takes the signals (from Python code, call `micrograd_it_app.cli.main`).

Importing argparse, the engine and the rest of the command takes a few
hundred milliseconds; a Ctrl-C in that time would otherwise end in a
KeyboardInterrupt traceback from the middle of an import. So this module
imports only `_interrupt` (standard library only), which holds the signal
until the command's own error handling runs: the command then stops at once
with its one line and exit code 130 (143 for SIGTERM).

A signal that arrives before Python has finished its own start-up (the
interpreter, `site`, the .pth files of the environment) cannot be handled by
any code of ours: Python may print a KeyboardInterrupt traceback from `site`,
or the process is killed by the signal. Measured here (time from the start of
the process to this module's first line, 20 starts): 65-156 ms, median 132 ms,
on a busy 2-core machine, where `python -c pass` alone takes 100 ms and
`python -S -c pass` (no `site`) 20 ms; from this module's first line to the
signals being held: 2.5 ms of imports that Python's start-up has mostly done.
For `python -m micrograd_it` the engine package is imported first (median
220 ms to the same line).
"""

import sys

from ._interrupt import hold_signals

hold_signals()


def main(argv=None):
    """Run the `micrograd-it` command on `argv` (default: sys.argv[1:]); return its exit code.

    Exit code 2, with one line saying how to install it, when the viz extra is missing.
    """
    try:
        from .cli import main as command  # argparse, the engine, ... (a signal meanwhile is held, then raised)
    except ImportError as error:
        sys.stderr.write(f"micrograd-it: the command needs the viz extra ({error}); "
                         "install it with: pip install 'micrograd_it[viz]'\n")
        return 2
    return command(argv)

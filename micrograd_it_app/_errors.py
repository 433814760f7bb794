"""The command's promise to its user: every expected failure is one line on stderr and an exit code, never a traceback.

=====  =============================================================================
exit   when
=====  =============================================================================
0      done
1      a failure found while running, that the user can fix: an output folder that
       cannot be written or is in use by another study, a refused expression, an
       unknown demo, training that overflows the floats, a missing extra
2      a usage error, found before anything runs: an unknown flag, a bad or
       out-of-range option value (sizes past the study's limits included)
130    Ctrl-C (SIGINT)
143    SIGTERM
=====  =============================================================================

The line is ``micrograd-it: error: <what>``; what the user typed is quoted
through `micrograd_it.quoting.quote` (at most ~100 characters). An exception
that no user input should cause -- a bug of ours -- still shows its
traceback: hiding it would hide the bug. The exception is a forked worker of
the study (_parallel.py): whatever it raises reaches the user as one line,
naming the exception and the file and line it was raised at.
"""

import os
import sys

from micrograd_it.expr import ExpressionError

from ._interrupt import checkpoint, exit_code, interrupted_line

__all__ = ["UsageError", "UserError", "EXIT_FAILURE", "EXIT_USAGE", "one_line", "say", "run_reporting"]

EXIT_FAILURE = 1
EXIT_USAGE = 2
MAX_LINE = 400  # characters of one error line: a last guard, messages quote user input shorter than this


class UsageError(Exception):
    """A bad flag, option value or argument (exit code 2)."""


class UserError(Exception):
    """A mistake the user can fix, found while running (bad folder, unknown demo, ...): exit code 1."""


def one_line(text, limit=MAX_LINE):
    """`text` on one line: control characters (newlines included) escaped, cut past `limit` characters with '...'."""
    text = "".join(char if char.isprintable() else repr(char)[1:-1] for char in str(text))
    return text if len(text) <= limit else text[:limit - 3] + "..."


def say(message):
    """Write ``micrograd-it: <message>`` to stderr as one line; return None."""
    sys.stderr.write(f"micrograd-it: {one_line(message)}\n")
    sys.stderr.flush()


def run_reporting(run):
    """Call `run()` and return its exit code (None counts as 0); every expected failure becomes one line and its code.

    A signal held since start-up is raised first, inside the handling.
    """
    try:
        checkpoint()
        return run() or 0
    except UsageError as error:
        say(f"error: {error}")
        return EXIT_USAGE
    except (UserError, ExpressionError) as error:
        say(f"error: {error}")
        return EXIT_FAILURE
    except KeyboardInterrupt as interrupt:  # Ctrl-C, or SIGTERM (Terminated)
        return say_interrupted(exit_code(interrupt))
    except MemoryError:  # the study's limits are there so that this never happens
        say("error: out of memory; try smaller sizes")
        return EXIT_FAILURE
    except BrokenPipeError:  # e.g. `micrograd-it demo --list | head -1`: the reader left, nothing to report
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - so the interpreter's final flush stays quiet
        return EXIT_FAILURE
    except SystemExit as exit_:  # --help and --version
        return exit_.code if isinstance(exit_.code, int) else 0


def say_interrupted(code):
    """Say that the command stopped on a signal; return `code` (130 or 143)."""
    sys.stderr.write(interrupted_line(code))
    sys.stderr.flush()
    return code

"""`python -m micrograd_it` runs the `micrograd-it` command (the application package micrograd_it_app).

This entry point is the one place where the engine package reaches into the application:
it is a door to the command line, not part of the engine, and it imports it
only when run.
"""

import sys


def run():
    """Run the command line (its door, micrograd_it_app.start, takes Ctrl-C in hand first); exit with its code.

    Exits with a clear message if the application package is missing.
    """
    try:
        from micrograd_it_app.start import main
    except ImportError as error:
        sys.stderr.write(f"micrograd-it: the command needs the application package micrograd_it_app ({error}); "
                         "install it with: pip install 'micrograd_it[viz]'\n")
        raise SystemExit(2) from None
    raise SystemExit(main())


if __name__ == "__main__":
    run()

"""`python -m micrograd_it` runs the `micrograd-it` command (the application package micrograd_it_app).

This entry point is the one place where the engine package reaches into the application:
it is a door to the command line, not part of the engine, and it imports it
only when run.
"""

import sys


def run():
    """Run the command line; exit with a clear message if the viz extra is not installed."""
    try:
        from micrograd_it_app.cli import main
    except ImportError as error:
        sys.stderr.write(f"micrograd-it: the command needs the viz extra ({error}); "
                         "install it with: pip install 'micrograd_it[viz]'\n")
        raise SystemExit(2) from None
    raise SystemExit(main())


if __name__ == "__main__":
    run()

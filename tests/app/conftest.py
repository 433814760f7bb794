"""Fixtures of the application's tests."""

import signal
import threading

import pytest


@pytest.fixture(autouse=True)
def signals_as_in_a_terminal():
    """Ctrl-C and SIGTERM as an interactive shell leaves them, for each test and every process it starts.

    A shell script that starts pytest in the background (``pytest ... &``)
    makes it ignore SIGINT, and every process started from it inherits that:
    the interrupt tests then send a Ctrl-C that nobody hears (this made
    test_a_swallowed_ctrl_c_is_raised_again_at_the_next_checkpoint fail in 1
    of 3 full runs). Python's own handler makes exec'd children start with
    the default again. The handlers found are restored after the test.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    wanted = {signal.SIGINT: signal.default_int_handler, signal.SIGTERM: signal.SIG_DFL}
    previous = {signum: signal.signal(signum, handler) for signum, handler in wanted.items()}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)

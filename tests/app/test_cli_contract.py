"""The command's contract (micrograd_it_app/_errors.py): whatever the user types, one line on stderr and an exit code.

Exit 2 for a usage error (flags, option values, sizes past the limits), 1 for a failure found while running
(a refused expression, training that overflows), never a traceback and never more than ~100 characters of the
user's text echoed.
"""

import argparse

import pytest

from micrograd_it.makemore import char_dataset
from micrograd_it_app import cli

from .test_cli import assert_one_line_error, run_main

LONG = 120_000  # characters of a hostile argument (the 120 kB binding)


def assert_short(err):
    assert len(err) < 500, f"{len(err)} characters: {err[:300]}..."


# -- constants that overflow are expression errors ---------------------------------------------------------

@pytest.mark.parametrize("expression, culprit", [
    ("1e300*1e300", "1e300*1e300"), ("1e308+1e308", "1e308+1e308"), ("1e308*10*0", "1e308*10"),
    ("1/1e-320", "1/1e-320"),
])
def test_graph_of_constants_that_overflow_is_one_line_naming_the_part(capsys, tmp_path, expression, culprit):
    code, out, err = run_main(capsys, "graph", expression, "--out", str(tmp_path / "g.svg"))
    assert_one_line_error(code, err, 1, f"'{culprit}'", "overflow")
    assert list(tmp_path.iterdir()) == []


# -- an expression may start with "-" ------------------------------------------------------------------------

@pytest.mark.parametrize("argv", [
    ["graph", "-x*2", "x=1", "--out", "{tmp}/g.svg"],
    ["graph", "--out", "{tmp}/g.svg", "-x*2", "x=1"],
    ["graph", "-x*2", "--out={tmp}/g.svg", "x=1"],
    ["graph", "--out", "{tmp}/g.svg", "--", "-x*2", "x=1"],
])
def test_an_expression_starting_with_a_minus_is_an_expression(capsys, tmp_path, argv):
    code, out, err = run_main(capsys, *[arg.replace("{tmp}", str(tmp_path)) for arg in argv])
    assert code == 0, err
    assert "-x*2 = -2; d/dx = -2" in out  # d(-2x)/dx = -2, at x = 1: -2
    assert (tmp_path / "g.svg").read_bytes().lstrip().startswith((b"<?xml", b"<svg"))


def test_explore_takes_an_expression_starting_with_a_minus(capsys, tmp_path):
    code, out, err = run_main(capsys, "explore", "-tanh(x)", "x=0", "--out", str(tmp_path / "e.html"))
    assert code == 0, err
    assert "-tanh(x) = -0:" in out or "-tanh(x) = 0:" in out


def test_an_unknown_option_after_a_minus_expression_is_still_named(capsys, tmp_path):
    code, out, err = run_main(capsys, "graph", "-x*2", "x=1", "--bogus", "--out", str(tmp_path / "g.svg"))
    assert_one_line_error(code, err, 2, "--bogus")


# -- bindings, output paths --------------------------------------------------------------------------------------

def test_bindings_are_normalised_like_the_expression(capsys, tmp_path):
    code, out, err = run_main(capsys, "graph", "ｘ*2", "ｘ=1", "--out", str(tmp_path / "g.svg"))
    assert code == 0, err
    assert "d/dx = 2" in out  # Python reads the fullwidth ｘ as x (NFKC): d(2x)/dx = 2


@pytest.mark.parametrize("command", [["study"], ["demo", "moons"], ["graph", "x", "x=1"], ["explore", "x", "x=1"]])
@pytest.mark.parametrize("out", ["", "   "])
def test_an_empty_output_path_is_refused(capsys, tmp_path, monkeypatch, command, out):
    monkeypatch.chdir(tmp_path)  # today's main wrote the study into the working folder
    code, _, err = run_main(capsys, *command, "--out", out)
    assert_one_line_error(code, err, 2, "--out")
    assert list(tmp_path.iterdir()) == []


# -- what the user typed is quoted short, on one line ----------------------------------------------------------

@pytest.mark.parametrize("argv, expected_code", [
    (["z" * LONG], 2),  # an unknown command
    (["graph", "x", "x=" + "1" * LONG], 1),
    (["graph", "x", "y" * LONG], 1),
    (["graph", "x", "x=1", "--bogus" + "b" * LONG], 2),
    (["graph", "x", "x=1", "--out", "a" * 5000 + ".svg"], 1),
    (["graph", "x" * LONG], 1),
    (["study", "--steps", "9" * LONG], 2),
    (["study", "--seed", "9" * 5000], 2),
    (["study", "--lr", "1" * LONG], 2),
    (["demo", "d" * LONG], 1),
    (["graph", "x", "y\nz"], 1),
    (["graph", "x\n+\ny", "x=1", "y=\n2\n"], 1),
])
def test_error_lines_quote_at_most_about_100_characters(capsys, tmp_path, monkeypatch, argv, expected_code):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_main(capsys, *argv)
    assert_one_line_error(code, err, expected_code)
    assert_short(err)


def _numeric_study_options():
    """Every option of `study` whose value is a number, read from the parser (a new one is checked too)."""
    study = cli.build_parser()._subparsers._group_actions[0].choices["study"]
    return [action.option_strings[0] for action in study._actions
            if action.type in (int, float) or getattr(action.type, "__name__", "").startswith(("_positive", "_seed"))]


def test_every_numeric_option_is_found():
    assert {"--steps", "--lr", "--high-lr", "--hidden", "--batch", "--seeds", "--seed", "--torch-steps", "--deep-steps"} \
        <= set(_numeric_study_options())


HOSTILE = ["0", "-1", "nan", "inf", "-inf", "1e999", "", " ", "0x10", "1/2", "½", "9" * 5000]
HOSTILE_WHOLE = ["1" + "0" * 30, "1.5", "1e3"]  # for whole numbers only: a size of 10^30 is a number, and absurd


@pytest.mark.parametrize("option, value", [(option, value) for option in _numeric_study_options()
                                           for value in HOSTILE + (HOSTILE_WHOLE if option not in ("--lr", "--high-lr") else [])
                                           if (option, value) != ("--seed", "0")])  # seed 0 is the default
def test_every_numeric_option_refuses_hostile_values_in_one_line(capsys, tmp_path, option, value):
    code, out, err = run_main(capsys, "study", option, value, "--out", str(tmp_path / "out"))
    assert_one_line_error(code, err, 2, option)
    assert_short(err)
    assert not (tmp_path / "out").exists()  # refused before anything ran


# -- study sizes past the limits: refused at once, saying the limit --------------------------------------------------

def test_a_batch_larger_than_the_data_set_is_refused_naming_its_size(capsys, tmp_path):
    size = len(char_dataset()[0])  # the study's data set: the training contexts of names.txt (182,625)
    code, out, err = run_main(capsys, "study", "--batch", str(size + 1), "--out", str(tmp_path / "out"))
    assert_one_line_error(code, err, 2, "--batch", f"{size:,} samples")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("argv", [["--steps", "1000000000"], ["--hidden", "100000000"], ["--seeds", "100000000"],
                                  ["--batch", "3000", "--hidden", "3000"], ["--torch", "--torch-steps", "1000000000"],
                                  ["--deep", "--deep-steps", "1000000000"]])
def test_absurd_sizes_are_refused_saying_how_far_they_may_go(capsys, tmp_path, argv):
    import time

    started = time.perf_counter()
    code, out, err = run_main(capsys, "study", *argv, "--out", str(tmp_path / "out"))
    assert time.perf_counter() - started < 10  # at once: nothing was allocated or trained
    assert_one_line_error(code, err, 2, "too large", "at most", "memory")
    given = dict(zip(argv[::-1][1::2], argv[::-1][::2]))  # flag -> value (the sizes given)
    flag = err.split(" can be at most ")[0].split()[-1]
    assert flag in given  # the line asks to lower a size the user gave ...
    limit = int(err.split(" can be at most ")[1].split()[0].replace(",", ""))
    assert 1 <= limit < int(given[flag])  # ... to a value that is a real limit
    assert not (tmp_path / "out").exists()


# -- a learning rate that overflows: a sentence ------------------------------------------------------------------

@pytest.mark.parametrize("argv, words", [
    (["--lr", "1e308", "--steps", "1"], ["the learning rate 1e+308 (--lr", "the first step overflow"]),
    (["--high-lr", "1e100", "--steps", "4"], ["the learning rate 1e+100 (--high-lr", "overflow"]),
])
def test_a_learning_rate_that_overflows_is_one_sentence(capsys, tmp_path, argv, words):
    code, out, err = run_main(capsys, "study", *argv, "--seeds", "1", "--hidden", "4", "--batch", "4",
                              "--out", str(tmp_path / "out"))
    assert_one_line_error(code, err, 1, *words, "try a smaller learning rate")
    assert "Numerical result out of range" not in err and "(34," not in err
    assert not any(path.name.startswith(".tmp-") for path in (tmp_path / "out").iterdir())


def test_the_type_checks_name_the_value_in_words():
    with pytest.raises(argparse.ArgumentTypeError, match="finite number > 0"):
        cli._positive_float("1e999")


def test_a_ctrl_c_during_an_import_waits_for_its_end_then_stops():
    # A KeyboardInterrupt in the middle of a C extension's import can leave the interpreter to abort or die by
    # SIGINT at exit (seen: 1 in 40 interrupted imports of matplotlib under python -m): the command holds the
    # signal while it imports, and raises it as soon as the import is done.
    import signal

    from micrograd_it_app._interrupt import catch_interrupts, held

    reached = []
    with catch_interrupts():
        with pytest.raises(KeyboardInterrupt):
            with held():
                signal.raise_signal(signal.SIGINT)
                reached.append("the rest of the import")
    assert reached == ["the rest of the import"]


# -- numbers that leave the floats, or what a figure can draw: every figure draws, or one line -------------------

@pytest.mark.parametrize("high_lr, hidden, steps", [
    ("1e300", 1, 1),  # the issue's: weights stay finite, their norms did not (a NaN bar width)
    ("1e30", 1, 2),  # one huge pre-activation: numpy could not make 50 bins around it
    ("1e150", 2, 2),
])
def test_a_study_whose_numbers_leave_the_floats_draws_or_says_one_line(capsys, tmp_path, high_lr, hidden, steps):
    code, out, err = run_main(capsys, "study", "--steps", str(steps), "--hidden", str(hidden), "--batch", "1",
                              "--high-lr", high_lr, "--seeds", "2", "--out", str(tmp_path / "out"))
    if code == 0:
        assert err == "" and (tmp_path / "out" / "report.html").exists()
    else:
        assert_one_line_error(code, err, 1, f"the learning rate {float(high_lr):g}", "try a smaller learning rate")

"""The study's size limits (_study_limits.py): its estimates checked against measured runs, and absurd sizes refused
before anything is allocated."""

import os
import subprocess
import sys
import textwrap

import pytest

from micrograd_it_app import study
from micrograd_it_app._errors import UsageError
from micrograd_it_app._study_limits import BASE_BYTES, SECONDS_PER_STEP, SECONDS_PER_UNIT, check, run_peak

MEASURE = textwrap.dedent("""
    import json, resource, sys, tempfile, time
    from micrograd_it_app import study

    def peak_bytes():
        # This process's own high-water mark: Linux keeps ru_maxrss across exec, so a child of a
        # large pytest process would report its parent's size; VmHWM belongs to this image alone.
        try:
            with open("/proc/self/status") as status:
                return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:"))
        except (OSError, StopIteration):
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    options = study.StudyOptions(**json.loads(sys.argv[1]))
    before = peak_bytes()
    started = time.process_time()
    if sys.argv[2] == "train":  # the training loop alone, on one run's model
        X, Y, vocab_size = study.dataset(options)
        samples = study.draw_samples(X, Y, vocab_size, options)
        # names.txt's 182,625 contexts are built once per study (about a second of CPU), not per step:
        # the clock starts after them, so that it times what SECONDS_PER_UNIT and SECONDS_PER_STEP predict
        started = time.process_time()
        model = study.CharMLP(vocab_size, options.block_size, options.emb_dim, options.hidden, "scaled", 0)
        run = study.ConfigRun(key="fixed_init", title="t", init="scaled", lr=options.lr)
        study.train(model, X, Y, run, options, samples.batches)
    else:  # one run of the study, measured and drawn as in a study (the too-high learning rate)
        X, Y, vocab_size = study.dataset(options)
        samples = study.draw_samples(X, Y, vocab_size, options)
        with tempfile.TemporaryDirectory() as folder:
            study.run_config("high_lr", "t", "scaled", samples, options, folder)
    peak = peak_bytes()
    print(json.dumps({"peak": peak, "before": before, "cpu": time.process_time() - started}))
""")


def measure(what, **sizes):
    import json

    result = subprocess.run([sys.executable, "-c", MEASURE, json.dumps(sizes), what], capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_memory_estimate_bounds_a_measured_run_from_above_and_not_by_far():
    sizes = dict(steps=2, hidden=512, batch=32, progress=False)  # 16,384 units: more than the seed-size pass (6400)
    measured = measure("run", **sizes)["peak"]  # the whole process: interpreter, imports, the run
    estimated = BASE_BYTES + run_peak(study.StudyOptions(**sizes))
    assert measured <= estimated <= 3 * measured, (measured, estimated)


def test_the_time_per_unit_matches_a_measured_training_loop():
    sizes = dict(steps=20, hidden=64, batch=64, progress=False)
    cpu = measure("train", **sizes)["cpu"]
    predicted = sizes["steps"] * (sizes["hidden"] * sizes["batch"] * SECONDS_PER_UNIT + SECONDS_PER_STEP)
    assert predicted / 3 <= cpu <= predicted * 3, (cpu, predicted)  # CPU time: the machine's other jobs do not count


def test_the_default_study_fits_and_its_limits_are_far_beyond_it():
    options = study.StudyOptions()
    check(options, len(study.dataset(options)[0]), memory_limit=4 * 10**9, cores=2)  # a 8 GB machine runs it
    check(study.StudyOptions(hidden=200, batch=32), len(study.dataset(options)[0]), memory_limit=4 * 10**9, cores=2)


def test_the_limit_stated_is_the_largest_that_fits():
    options = study.StudyOptions(steps=10**9)
    with pytest.raises(UsageError) as error:
        check(options, 3262, given=["steps"], memory_limit=4 * 10**9, cores=2)
    largest = int(str(error.value).split("--steps can be at most ")[1].replace(",", ""))
    check(study.StudyOptions(steps=largest), 3262, memory_limit=4 * 10**9, cores=2)  # fits
    with pytest.raises(UsageError):
        check(study.StudyOptions(steps=largest + 1), 3262, memory_limit=4 * 10**9, cores=2)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="sets a memory limit in the child (POSIX)")
@pytest.mark.parametrize("argv", [["--steps", "1000000000"], ["--hidden", "100000000"], ["--seeds", "100000000"],
                                  ["--batch", "3262", "--steps", "100000000"]])
def test_absurd_sizes_allocate_nothing_up_front(tmp_path, argv):
    import resource

    def two_gigabytes_at_most():
        resource.setrlimit(resource.RLIMIT_AS, (2 * 2**30, 2 * 2**30))

    result = subprocess.run([sys.executable, "-m", "micrograd_it", "study", *argv, "--out", str(tmp_path / "out")],
                            capture_output=True, text=True, timeout=120, preexec_fn=two_gigabytes_at_most)
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.count("\n") == 1 and "at most" in result.stderr
    assert "MemoryError" not in result.stderr and "Traceback" not in result.stderr

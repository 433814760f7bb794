"""run_jobs' jobs that wait for others (Later): what they receive, when they start, and what run_jobs leaves.

The order of the work is checked through files, not clocks: a job that only finishes once another job's
file exists proves that the other one started while it was still running.
"""

import gc
import os
import time

import pytest

from micrograd_it_app import _parallel
from micrograd_it_app._parallel import Later, run_jobs


def _write(folder, name, text):
    with open(os.path.join(folder, name), "w") as file:
        file.write(text)
    return text


def _wait_for(folder, name, text, timeout=60.0):
    """Wait until `name` exists in the output folder (the parent moves a finished job's files there)."""
    out_dir = os.path.dirname(folder) if os.path.basename(folder).startswith(".tmp-job-") else folder
    deadline = time.monotonic() + timeout
    while not os.path.exists(os.path.join(out_dir, name)):
        if time.monotonic() > deadline:
            return "timed out"
        time.sleep(0.01)
    return _write(folder, "waited.txt", text)


def _joined(folder, *parts):
    return _write(folder, "joined.txt", "+".join(parts))


def _jobs():
    return [(_write, ("a.txt", "a")), (_write, ("b.txt", "b")),
            Later(_joined, [1, 0], lambda b, a: (b, a, "c"))]


@pytest.mark.parametrize("processes", [1, 2])
def test_a_later_job_gets_the_results_of_the_jobs_it_waits_for_in_their_order(tmp_path, processes):
    if processes > 1 and not _parallel.can_fork():
        pytest.skip("no fork here (or other threads run): the jobs run in this process")
    seen = []
    results = run_jobs(_jobs(), str(tmp_path), processes, on_done=lambda result, folder: seen.append(result))
    assert results == ["a", "b", "b+a+c"]
    assert (tmp_path / "joined.txt").read_text() == "b+a+c"
    assert seen.index("b+a+c") > max(seen.index("a"), seen.index("b"))  # after on_done saw what it waits for


def test_a_later_job_starts_while_an_earlier_job_it_does_not_wait_for_still_runs(tmp_path):
    if not _parallel.can_fork():
        pytest.skip("no fork here (or other threads run): the jobs run one after the other")
    # job 0 finishes only once job 2's file is in the folder; job 2 waits for job 1 only
    jobs = [(_wait_for, ("joined.txt", "0 waited")), (_write, ("b.txt", "b")),
            Later(_joined, [1], lambda b: (b, "c"))]
    assert run_jobs(jobs, str(tmp_path), 2) == ["0 waited", "b", "b+c"]


@pytest.mark.parametrize("after", [[2], [-1], [5]])
def test_a_job_can_only_wait_for_jobs_before_it(tmp_path, after):
    jobs = [(_write, ("a.txt", "a")), Later(_joined, after, lambda *parts: parts), (_write, ("b.txt", "b"))]
    with pytest.raises(ValueError, match=rf"job 1 waits for \{after}"):
        run_jobs(jobs, str(tmp_path), 1)
    assert os.listdir(tmp_path) == []  # refused before anything ran


def test_the_collector_is_as_it_was_after_the_workers(tmp_path):
    if not _parallel.can_fork():
        pytest.skip("no fork here (or other threads run): nothing is frozen")
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    assert gc.get_freeze_count() == 0
    run_jobs(_jobs(), str(first), 2)
    assert gc.get_freeze_count() == 0  # frozen for the forks, unfrozen after
    gc.freeze()  # a caller's own freeze is left as it is
    try:
        frozen = gc.get_freeze_count()
        run_jobs(_jobs(), str(second), 2)
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()

"""Running the study's independent runs at once: one forked worker process per run, at most one per core.

Each job writes its files into a hidden folder of its own inside the output
folder (``.tmp-job-PID-N``); when it is done, the parent moves them into the
output folder (one atomic rename each) and receives the job's result through
a pipe. Workers ignore Ctrl-C (the parent decides) and die at once on SIGTERM.
On any error, Ctrl-C or SIGTERM the parent stops every worker and removes their folders, so the output folder
keeps exactly the files of the jobs that finished, as in a run one job after
the other.

Why fork: a forked worker starts at once with everything the parent has
imported (matplotlib alone takes ~0.5 s) and the same settings (rcParams),
so it draws the figures the parent would draw, byte for byte. Where fork is
not available, or is unsafe because the process already runs other threads
(a Jupyter kernel does), the jobs run one after the other in this process.
The results travel back pickled, through a pipe between our own processes;
nothing pickled is ever read from a file.
"""

import gc
import multiprocessing
import multiprocessing.connection
import os
import shutil
import signal
import sys
import threading
import traceback

from micrograd_it.files import atomic_write
from micrograd_it.quoting import quote

from . import _progress
from ._interrupt import checkpoint, in_worker
from ._output import UserError, close_locks_in_child

__all__ = ["run_jobs", "workers", "can_fork", "Later"]


class Later:
    """A job that needs earlier jobs' results: ``function(folder, *arguments(*their results))``.

    `after` are the indices of those jobs in the same run_jobs list (all before
    this one); their results are passed in that order, after on_done saw them.
    The job starts as soon as they are done, while other jobs still run.
    """

    def __init__(self, function, after, arguments):
        self.function, self.after, self.arguments = function, tuple(after), arguments

    def call(self, folder, results):
        return self.function(folder, *self.arguments(*[results[index] for index in self.after]))


def can_fork():
    """Return True when jobs can run in forked workers here (fork exists and this process runs one thread)."""
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def default_processes():
    """Return how many workers to use by default: the cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def run_jobs(jobs, out_dir, processes=None, on_done=None, progress=None):
    """Run `jobs`, a list of (function, args) each called as ``function(folder, *args)``, or of `Later` jobs that
    need earlier ones' results; return their results in order.

    `function` writes its files into `folder` and returns a result. With
    `processes` 1 (or fork unavailable) the jobs run here, one after the
    other, with `folder` = `out_dir`. Otherwise in at most `processes` worker
    processes (None: one per core), each in a private folder whose files are
    moved into `out_dir` when it is done. ``on_done(result, folder)`` is called
    in this process as each job finishes (e.g. to repoint paths from `folder`
    to `out_dir`). `progress()` makes the one Progress bar drawn while workers
    run (advanced once per training step of any worker; run here, each job
    draws its own). A job's exception is raised here after all workers are stopped.
    Workers take the first job in the list whose Later dependencies are done.
    """
    jobs = [job if isinstance(job, Later) else Later(job[0], (), _constant(job[1])) for job in jobs]
    for index, job in enumerate(jobs):
        if not all(0 <= before < index for before in job.after):
            raise ValueError(f"job {index} waits for {list(job.after)}: a job can only wait for jobs before it")
    if workers(len(jobs), processes) == 1:
        results = []
        for job in jobs:
            results.append(job.call(out_dir, results))
            if on_done is not None:
                on_done(results[-1], out_dir)
        return results
    with (progress() if progress is not None else _progress.Progress(1, enabled=False)) as bar:
        return _run_forked(jobs, out_dir, workers(len(jobs), processes), on_done, bar)


def _constant(args):
    return lambda: args


def workers(n_jobs, processes=None):
    """Return how many processes run_jobs uses for `n_jobs` jobs: 1 means here, one job after the other."""
    processes = default_processes() if processes is None else processes
    if processes <= 1 or n_jobs <= 1 or not can_fork():
        return 1
    return min(processes, n_jobs)


def _run_forked(jobs, out_dir, processes, on_done, progress):
    context = multiprocessing.get_context("fork")
    waiting = list(enumerate(jobs))
    started = []  # every worker, registered before it starts, so that a Ctrl-C at any moment reaches it
    running = {}  # pipe end -> (job index, process)
    results = [None] * len(jobs)
    finished = set()
    freeze = gc.get_freeze_count() == 0  # (a freeze of the caller's own is left as it is)
    try:
        if freeze:  # the objects made so far (the data set, matplotlib's) out of the collector's sight: a
            gc.freeze()  # worker's collections would otherwise touch each one, copying its page from this process
        while waiting or running:
            while len(running) < processes:
                ready = [place for place, (_, job) in enumerate(waiting) if finished.issuperset(job.after)]
                if not ready:
                    break
                index, job = waiting.pop(ready[0])
                receiver, process = _start(context, (job, results), _job_folder(out_dir, index), started)
                running[receiver] = (index, process)
            for receiver in multiprocessing.connection.wait(list(running), timeout=0.2):
                kind, payload = _receive(receiver)
                if kind == "step":
                    progress.update(loss=payload)
                    continue
                index, process = running.pop(receiver)
                receiver.close()
                process.join()
                if kind == "died":
                    checkpoint()  # killed with this process by one SIGTERM (a process group's): an interrupt
                    raise UserError(_died(process.exitcode))
                if kind == "error":
                    raise payload
                _move_files(_job_folder(out_dir, index), out_dir)
                results[index] = payload
                if on_done is not None:
                    on_done(payload, _job_folder(out_dir, index))
                finished.add(index)
            checkpoint()
    finally:
        _stop(started, [_job_folder(out_dir, index) for index in range(len(jobs))])
        for receiver in running:
            receiver.close()
        if freeze:
            gc.unfreeze()
    return results


def _job_folder(out_dir, index):
    # A name known before the folder exists, so that cleaning up never depends on having received it.
    return os.path.join(out_dir, f".tmp-job-{os.getpid()}-{index}")


def _start(context, job, folder, started):
    shutil.rmtree(folder, ignore_errors=True)  # left by a killed run whose process had our pid
    os.mkdir(folder)
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_work, args=(sender, job, folder), daemon=True)
    started.append(process)
    # Buffered output would be copied into the child and printed twice.
    sys.stdout.flush()
    sys.stderr.flush()
    # Ctrl-C and SIGTERM are held back while the child starts, until it has chosen what to do with them.
    blocked = hasattr(signal, "pthread_sigmask") and threading.current_thread() is threading.main_thread()
    if blocked:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        process.start()
    finally:
        if blocked:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
        sender.close()
    return receiver, process


def _work(sender, job, folder):
    """The worker: run one job, send its steps and its result (or its error) to the parent.

    Whatever happens here reaches the user as one line, said by the parent: an
    error is sent as a UserError; if even sending fails, the worker ends with
    os._exit, silently, and the parent reports a worker that died. Nothing may
    escape to multiprocessing, which would print its own traceback on stderr.
    """
    try:
        in_worker()
        close_locks_in_child()  # a killed parent's lock must not outlive it in its workers
        if hasattr(signal, "pthread_sigmask"):
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
        _progress.forward_steps(lambda loss: sender.send(("step", loss)))
        job, results = job
        try:
            message = ("done", job.call(folder, results))
        except UserError as error:
            message = ("error", UserError(_in_out_dir(str(error), folder)))
        except OSError as error:  # a full disk, a folder made read-only meanwhile: the user's to fix
            message = ("error", _cannot_write(error, folder))
        except BaseException as error:  # noqa: BLE001 - a bug of ours: still one line, naming it and where
            message = ("error", _failed(error))
        try:
            sender.send(message)
        except Exception as error:  # noqa: BLE001 - e.g. a result that cannot be pickled
            sender.send(("error", _failed(error)))
        sender.close()
    except BaseException:  # noqa: BLE001 - even the pipe failed: the parent sees a worker that died
        os._exit(EXIT_WORKER_FAILED)


EXIT_WORKER_FAILED = 70  # a worker that could not even report its error (EX_SOFTWARE)


def _in_out_dir(text, folder):
    """`text` with the job's hidden folder replaced by the output folder, where its files were going."""
    return text.replace(folder + os.sep, os.path.dirname(folder) + os.sep)


def _failed(error):
    """A bug in a worker as one line: what it raised and the innermost place it was raised in."""
    frames = traceback.extract_tb(error.__traceback__)
    where = f" (at {os.path.basename(frames[-1].filename)}:{frames[-1].lineno})" if frames else ""
    return UserError(f"a worker process of the study failed: {type(error).__name__}: {error}{where}")


def _cannot_write(error, folder):
    """The UserError of an OSError in a job, naming the file where it was going (in the output folder)."""
    where = error.filename
    if isinstance(where, str) and os.path.dirname(where) == folder:  # the job's hidden folder: say the real place
        where = os.path.join(os.path.dirname(folder), os.path.basename(where))
    what = f"cannot write {quote(where)}" if isinstance(where, str) else "cannot write the study's files"
    return UserError(f"{what}: {error.strerror or error}")


def _died(exitcode):
    """The line of a worker that ended without a word: by which signal or exit code."""
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        hint = " (SIGKILL: perhaps the system ran out of memory; try smaller sizes)" if name == "SIGKILL" else ""
        return f"a worker process of the study was killed by {name}{hint}"
    return f"a worker process of the study died (exit code {exitcode})"


def _receive(receiver):
    try:
        return receiver.recv()
    except (EOFError, OSError):  # the worker ended without a word: killed, or crashed
        return "died", None


def _move_files(folder, out_dir):
    """Move a worker's finished files into `out_dir`; one already there (a symlink, a 0600 file) is written
    through atomic_write, so it keeps its link and its mode; a new one is renamed in."""
    for name in sorted(os.listdir(folder)):
        source, target = os.path.join(folder, name), os.path.join(out_dir, name)
        if os.path.lexists(target):
            with open(source, "rb") as finished:
                atomic_write(target, finished.read())
            os.unlink(source)
        else:
            os.replace(source, target)
    os.rmdir(folder)


def _stop(started, folders):
    """Stop every worker still running and remove the job folders left (nothing half-done is kept)."""
    for process in started:
        if process.pid is not None and process.is_alive():
            process.kill()
    for process in started:
        if process.pid is not None:
            process.join()
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)

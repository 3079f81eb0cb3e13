"""Ctrl-C and SIGTERM on the command line: one line, exit 130 (SIGINT) or 143 (SIGTERM), temporary files removed,
worker processes stopped, within a second, also in the middle of a batch.

:class:`Interruptible` wraps a command (``qvalid.cli.main`` runs every command inside it):

- SIGINT and SIGTERM raise :class:`Interrupted` in the main thread at the next Python instruction (a
  ``KeyboardInterrupt``, so no ``except Exception`` swallows it); ``main`` unwinds (the writers remove their
  temporary files in ``finally`` blocks, :func:`worker_pool` stops its processes), prints one line and returns
  128 + the signal number;
- a watchdog thread hears the same signal through ``signal.set_wakeup_fd`` (written by the C-level handler at
  once, even while the main thread is inside a long numpy call); if the main thread has not finished unwinding
  :data:`GRACE` seconds later, the watchdog prints the line, removes the temporary files
  (:func:`qvalid.io.files.remove_temporaries`), stops the worker processes and ends the process itself.

Worker processes (:func:`worker_pool`) ignore SIGINT (a Ctrl-C reaches the whole process group; the parent alone
decides) and are stopped by the parent.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading

from ..io.files import remove_temporaries

__all__ = ["Interrupted", "Interruptible", "worker_pool", "stop_workers", "end_process", "GRACE", "SIGNALS"]

#: Seconds the main thread has to unwind after a signal before the watchdog ends the process.
GRACE = 0.5
#: The signals a command stops on.
SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """Raised in the main thread by SIGINT or SIGTERM; ``code`` is the exit code (128 + signal number)."""

    def __init__(self, signum: int):
        self.signum = signum
        super().__init__(signal.Signals(signum).name)

    @property
    def code(self) -> int:
        return 128 + self.signum

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name


class Interruptible:
    """Install the handlers and the watchdog for the duration of one command (a no-op outside the main thread).

    ``message(signum)`` gives the one line printed when the watchdog has to end the process itself.
    """

    def __init__(self, message):
        self.message = message
        self.done = threading.Event()
        self._fired = False
        self._active = False

    def __enter__(self):
        if threading.current_thread() is not threading.main_thread():
            return self
        self._saved = {s: signal.getsignal(s) for s in SIGNALS}
        self._r, self._w = os.pipe()
        os.set_blocking(self._w, False)
        try:
            self._saved_fd = signal.set_wakeup_fd(self._w, warn_on_full_buffer=False)
        except ValueError:  # pragma: no cover - not the main thread of the main interpreter
            os.close(self._r)
            os.close(self._w)
            return self
        for s in SIGNALS:
            signal.signal(s, self._handler)
        self._active = True
        self._thread = threading.Thread(target=self._watch, name="qvalid-interrupt-watchdog", daemon=True)
        self._thread.start()
        return self

    def _handler(self, signum, frame):
        if self._fired:  # a second signal while unwinding: the watchdog finishes the job
            return
        self._fired = True
        raise Interrupted(signum)

    def _watch(self) -> None:
        while True:
            try:
                data = os.read(self._r, 64)
            except OSError:
                return
            if not data:
                return
            signums = [b for b in data if b in SIGNALS]
            if not signums:
                continue
            if self.done.wait(GRACE):
                return
            self._force_exit(signums[0])

    def _force_exit(self, signum: int) -> None:
        """The main thread is stuck (a long C call): end the process from here."""
        with contextlib.suppress(Exception):
            os.write(2, (self.message(signum) + "\n").encode("utf-8", "replace"))
        end_process(128 + signum)

    def finished(self) -> None:
        """The main thread has unwound (called before the exit line is printed): the watchdog stands down."""
        self.done.set()

    def __exit__(self, *exc):
        if not self._active:
            return False
        self.done.set()
        for s, h in self._saved.items():
            signal.signal(s, h if h is not None else signal.SIG_DFL)
        signal.set_wakeup_fd(self._saved_fd)
        os.close(self._w)  # the watchdog's read returns b"": it ends
        self._thread.join(1.0)
        os.close(self._r)
        self._active = False
        return False


def end_process(code: int) -> None:
    """End the process at once with ``code``, after flushing standard output and error and stopping the workers.

    After an interrupt the interpreter's normal exit could wait for ever: a worker pool's feeder thread may be
    blocked writing to workers that are gone, and the exit joins it. Threads' exceptions are not printed any more
    (a pool's manager thread may complain about the workers it lost)."""
    threading.excepthook = lambda args: None
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    with contextlib.suppress(Exception):
        remove_temporaries()
    with contextlib.suppress(Exception):
        stop_workers(timeout=0)
    os._exit(code)


def stop_workers(timeout: float = 0.5) -> None:
    """Terminate this process's worker processes (SIGTERM, then SIGKILL after ``timeout`` seconds; with
    ``timeout=0`` SIGKILL at once, without waiting)."""
    children = multiprocessing.active_children()
    for p in children:
        with contextlib.suppress(Exception):
            p.kill() if timeout == 0 else p.terminate()
    if timeout == 0:
        return
    for p in children:
        with contextlib.suppress(Exception):
            p.join(timeout)
            if p.is_alive():
                p.kill()
                p.join(timeout)


def _ignore_interrupts() -> None:
    """Initializer of the workers: Ctrl-C reaches the whole process group, but only the parent acts on it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    with contextlib.suppress(ValueError):
        signal.set_wakeup_fd(-1)


@contextlib.contextmanager
def worker_pool(n: int):
    """A ``ProcessPoolExecutor`` of ``n`` workers (None for ``n <= 1``: run here) that ignore SIGINT; on an
    exception its queued work is cancelled, and on an interrupt it is not waited for (:func:`end_process` stops the
    workers).

    Workers are forked where the system can (Linux; Python 3.14 would otherwise use a fork server): forked workers
    share no named semaphores with a resource tracker, which would print "leaked semaphore" warnings when an
    interrupt ends the process at once (:func:`end_process`)."""
    if n <= 1:
        yield None
        return
    from concurrent.futures import ProcessPoolExecutor

    fork = "fork" in multiprocessing.get_all_start_methods() and sys.platform.startswith("linux")
    pool = ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("fork") if fork else None,
                               initializer=_ignore_interrupts)
    try:
        yield pool
    except KeyboardInterrupt:  # no waiting: the command line ends the process (end_process stops the workers)
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    except BaseException:  # an error: queued work is cancelled, running work ends
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    else:
        pool.shutdown()

"""Commands of ours run in a fork of the test process: real processes, without the second
of CPU that every fresh interpreter spends importing Flask, SQLAlchemy and the app.

The outbox and rate-limit tests start about twenty sender and web processes and kill
several with SIGKILL. A fork is as real a process for that (its own pid, its own database
connections, killed by the kernel mid-statement), and it starts in 0.1 s instead of 1.3 s
because the parent has already imported everything. What a fork inherits from a pytest
worker is undone before the command runs: the signal handlers, the root logger's handlers,
pytest's captured standard streams, the environment.

Not for a test of how a process ends on SIGTERM: in one full run a forked scheduler never
stopped after SIGTERM (its log went quiet; it never said "Scheduler stopped."). A new
interpreter's scheduler once went on after SIGTERM too, but with its jobs still running:
the SystemExit had been swallowed in a finalizer, which ``scheduler.stop_on_signals`` now
survives. The quiet fork was not that, so the scheduler-lock tests keep starting new
interpreters (``tests.mail.support.start_interpreter``).

``ForkedProcess`` answers as much of ``subprocess.Popen`` as these tests use: ``pid``,
``stdout`` (text, line by line), ``poll``, ``wait``, ``communicate`` and ``returncode``
(negative for a signal, as Popen gives it).
"""

from __future__ import annotations

import logging
import os
import runpy
import signal
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path

#: Signals pytest or its plugins (pytest-timeout) may have taken over in the parent.
_RESET_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGALRM, signal.SIGHUP,
                  signal.SIGUSR1, signal.SIGUSR2, signal.SIGCHLD)


class ForkedProcess:
    def __init__(self, command: list[str], *, env: dict[str, str], cwd: Path) -> None:
        read_end, write_end = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child never returns from here
            os.close(read_end)
            _run_in_child(command, env, cwd, write_end)
        os.close(write_end)
        self.pid = pid
        self.args = command
        self.returncode: int | None = None
        self.stdout = os.fdopen(read_end, "r", encoding="utf-8", errors="replace")

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(self.args, timeout)
            time.sleep(0.01)
        return self.returncode

    def communicate(self, timeout: float | None = None) -> tuple[str, None]:
        """The rest of the output, once the process has ended (as Popen's, including the
        ``TimeoutExpired`` of a process that neither ends nor closes its output)."""
        started = time.monotonic()
        output: list[str] = []
        reader = threading.Thread(target=lambda: output.append(self.stdout.read()),
                                  daemon=True)
        reader.start()
        reader.join(timeout)
        if reader.is_alive():
            raise subprocess.TimeoutExpired(self.args, timeout)
        self.stdout.close()
        self.wait(None if timeout is None else max(0.0, timeout - (time.monotonic() - started)))
        return output[0], None

    def send_signal(self, number: int) -> None:
        if self.returncode is None:
            os.kill(self.pid, number)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def _run_in_child(command: list[str], env: dict[str, str], cwd: Path, output: int) -> None:
    code = 1
    try:
        for number in _RESET_SIGNALS:
            signal.signal(number, signal.SIG_DFL)
        signal.alarm(0)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(output, 1)
        os.dup2(output, 2)
        os.close(output)
        sys.stdin = open(0, closefd=False)  # noqa: SIM115 - the process's own streams
        sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
        root = logging.getLogger()
        for handler in root.handlers[:]:
            root.removeHandler(handler)
        root.setLevel(logging.WARNING)
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(env)
        code = _main(command)
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
        if not isinstance(stop.code, (int, type(None))):
            print(stop.code, file=sys.stderr)
    except BaseException:  # noqa: BLE001 - the child reports everything and ends
        traceback.print_exc()
        code = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            # No interpreter shutdown: the parent's atexit hooks, connections and pytest's
            # state are not the child's to finish.
            os._exit(code)


def _main(command: list[str]) -> int:
    """``flask ARGS`` (the console script), ``python -m MODULE ARGS`` or
    ``python SCRIPT ARGS``."""
    program, *arguments = command
    if Path(program).name == "flask":
        from flask.cli import main

        sys.argv = ["flask", *arguments]
        main()
        return 0
    if arguments[0] == "-m":
        _flag, module, *rest = arguments
        sys.argv = [module, *rest]
        runpy.run_module(module, run_name="__main__", alter_sys=True)
        return 0
    script, *rest = arguments
    sys.argv = [script, *rest]
    runpy.run_path(script, run_name="__main__")
    return 0

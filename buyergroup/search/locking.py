"""One index writer at a time: across threads of a process and across processes.

Whoosh refuses a second writer (``LockError``); PostgreSQL would accept two, but two drains
applying the same document out of order could leave the older version in the index. So
every backend offers a lock made of two parts: a re-entrant thread lock for the process and
a cross-process part (a file lock next to the Whoosh index, an advisory lock in PostgreSQL).
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from buyergroup.search.types import IndexBusy

_POLL_SECONDS = 0.02


class WriterLock:
    """A re-entrant lock whose outermost acquisition also takes a cross-process lock.

    ``acquire(deadline)`` must take the cross-process part before ``deadline``
    (a ``time.monotonic()`` value) or raise ``IndexBusy``; ``release()`` gives it back.
    """

    def __init__(self, acquire: Callable[[float], None], release: Callable[[], None]):
        self._acquire = acquire
        self._release = release
        self._thread_lock = threading.RLock()
        self._depth = 0

    @contextmanager
    def hold(self, timeout: float) -> Iterator[None]:
        deadline = time.monotonic() + max(timeout, 0.0)
        if not self._thread_lock.acquire(timeout=max(timeout, 0.0)):
            raise IndexBusy("another thread is writing to the search index")
        try:
            if self._depth == 0:
                self._acquire(deadline)
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    self._release()
        finally:
            self._thread_lock.release()


class FileLock:
    """An exclusive ``flock`` on a file, polled until a deadline.

    ``flock`` belongs to the open file description, so two opens in one process exclude
    each other too; the thread lock in ``WriterLock`` keeps that from ever mattering.
    """

    def __init__(self, path: Path):
        self.path = path
        self._fd: int | None = None

    def acquire(self, deadline: float) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise IndexBusy(f"the search index is locked by another process "
                                    f"({self.path})") from None
                time.sleep(_POLL_SECONDS)
                continue
            self._fd = fd
            return

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


_file_locks: dict[tuple[int, str], WriterLock] = {}
_file_locks_guard = threading.Lock()


def file_writer_lock(path: Path) -> WriterLock:
    """The process's single ``WriterLock`` for ``path`` (a new one after a fork)."""
    key = (os.getpid(), str(path.resolve()))
    with _file_locks_guard:
        lock = _file_locks.get(key)
        if lock is None:
            file_lock = FileLock(path)
            lock = _file_locks[key] = WriterLock(file_lock.acquire, file_lock.release)
        return lock

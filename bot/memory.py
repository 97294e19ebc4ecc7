"""Memory of the long-running processes: glibc's malloc keeps what Python frees unless told otherwise."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import threading
from functools import cache

log = logging.getLogger(__name__)
M_ARENA_MAX = -8  # glibc's mallopt parameter number
ARENAS = 2
TRIM_EVERY = 10.0  # seconds between two returns of free heap memory to the system


@cache
def _libc() -> ctypes.CDLL | None:
    """glibc, or None where the C library is another (musl, macOS): the functions below then do nothing."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt, libc.malloc_trim  # noqa: B018 - both exist in glibc only
    except (OSError, AttributeError):
        return None
    return libc


def limit_malloc_arenas(arenas: int = ARENAS) -> bool:
    """Cap glibc's malloc arenas. glibc gives threads that allocate at once heaps of their own, up to eight per core;
    with dozens of request threads each holds freed memory the others cannot reuse, and the resident size keeps
    growing. The threads mostly wait for the interpreter lock anyway, so two arenas cost no speed."""
    libc = _libc()
    done = bool(libc is not None and libc.mallopt(M_ARENA_MAX, arenas))
    log.debug("malloc arenas capped", extra={"arenas": arenas, "done": done})
    return done


def return_free_memory() -> bool:
    """Hand the free pages inside the heap back to the system (glibc's malloc_trim). After a burst of charts and
    queries, glibc otherwise keeps tens of MB that Python has freed resident, fragmented between live objects."""
    libc = _libc()
    return bool(libc is not None and libc.malloc_trim(0))


def keep_trimmed(stop: threading.Event, every: float = TRIM_EVERY) -> None:
    """Return free memory every `every` seconds until `stop` is set (a thread's loop; the call releases the GIL)."""
    while not stop.wait(every):
        return_free_memory()

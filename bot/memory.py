"""Memory of the long-running server process."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)
M_ARENA_MAX = -8  # glibc's mallopt parameter number
ARENAS = 2


def limit_malloc_arenas(arenas: int = ARENAS) -> bool:
    """Cap glibc's malloc arenas. glibc gives threads that allocate at once heaps of their own, up to eight per core;
    with dozens of request threads each holds freed memory the others cannot reuse, and the resident size keeps
    growing. The threads mostly wait for the interpreter lock anyway, so two arenas cost no speed.
    False where the C library is not glibc (musl, macOS): nothing changes there."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    done = bool(mallopt(M_ARENA_MAX, arenas))
    log.debug("malloc arenas capped", extra={"arenas": arenas, "done": done})
    return done

"""The C allocator's settings for a long sync: large buffers go back to the system when freed.

A sync allocates many buffers of megabytes and frees them soon after: each page's answer (about
6 MB for 2,000 contacts), and at each checkpoint the remembered set encoded (known.py, about 6 MB
at 200,000 records) and the state the SDK makes JSON of it. glibc serves a buffer above its mmap
threshold (128 KB at start) with a mapping of its own, returned to the system when freed; but
freeing one raises the threshold to that buffer's size, so that from then on buffers of several
megabytes come from the heap, which they fragment, and the process's memory grows with the rows
synced although what is live does not (`make bench`: 50 MB more at 200,000 contacts than at
20,000 in extraction alone, 24 MB with the threshold fixed). Fixing the threshold keeps large
buffers out of the heap for the rest of the process (the connector's, which only syncs).

Fivetran runs the connector and sets its environment (MALLOC_MMAP_THRESHOLD_ is not ours to set),
so the setting is made from inside, through ctypes, on glibc only: elsewhere, without ctypes, or
where whoever runs the connector set the threshold themselves, nothing is done.
"""

from __future__ import annotations

import os
import sys

M_MMAP_THRESHOLD = -3  # mallopt's parameter number in glibc's malloc.h
# glibc's own initial threshold, kept fixed: a smaller one maps small buffers one by one (slow),
# a larger one lets buffers of a megabyte or two fragment the heap again.
MMAP_THRESHOLD_BYTES = 128 * 1024
# How a person running the connector sets the threshold themselves: then theirs stands.
OWN_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "GLIBC_TUNABLES")


def glibc():
    """The process's C library if it is glibc (it has gnu_get_libc_version), else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes  # here: a Python built without it still syncs, as it did before

        libc = ctypes.CDLL(None)
    except (ImportError, OSError):
        return None
    # Only glibc has it; musl's mallopt, for one, takes the call and does nothing.
    return libc if hasattr(libc, "gnu_get_libc_version") else None


def keep_large_buffers_mapped(libc=None) -> bool:
    """Fixes glibc's mmap threshold (see the module's docstring); True if it was set."""
    if any(name in os.environ for name in OWN_SETTINGS):
        return False
    libc = libc if libc is not None else glibc()
    if libc is None:
        return False
    try:
        return libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) == 1
    except (AttributeError, OSError):
        return False

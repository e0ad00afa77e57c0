"""Python's cyclic garbage collector held off while a figure reads tens of thousands of rows.

Reading an analysts' grid makes hundreds of thousands of small objects (buckets,
tuples, rows). Every 700 new container objects start a collection, and the growing
count sets off full collections of the whole process: reading the 5.5 MB
Elasticsearch answer for category x locality x provider took 185 ms with the
collector on and 40 ms with it off.
"""

import gc
import threading
from contextlib import contextmanager

_gc_lock = threading.Lock()
_gc_pauses = 0
_gc_was_enabled = False


@contextmanager
def gc_paused():
    """The collector held off for the block (and any other thread's block, overlapping:
    it resumes when the last ends, if it was on before the first).

    Reference counting still frees everything without cycles at once; cycles wait for
    the next collection after the block. Free large structures before the block ends:
    the first collection after it walks every object made during it that is still alive.
    """
    global _gc_pauses, _gc_was_enabled
    with _gc_lock:
        if _gc_pauses == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_was_enabled:
                gc.enable()

"""Workers meeting between the phases of a step: a spin barrier on atomic counters.

Numba has no atomics, and a plain spin loop on an array element can hang: the compiler may keep
the value in a register. `atomic_load` (acquire) and `atomic_store` (release) are LLVM's atomic
instructions; everything a worker wrote before its store is visible to a worker whose load sees
that store.

sync is an int64 array of LINE * (workers + 1) slots: worker p's arrival count at slot p * LINE
(one 64-byte line each, so the workers' counters do not share a cache line), and an abort flag
at slot workers * LINE, set from Python when one worker fails before it reaches the kernel: the
others then stop waiting and run out their minibatches without meeting, their results thrown
away by the caller.
"""

import os

import llvmlite.ir as ir
import numpy as np
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from .jit import kernel

LINE = 8  # int64 slots per 64-byte cache line
# Spins before a waiting worker gives its core away (sched_yield): another worker that has been
# descheduled (a busy machine) then gets to run; two workers on two free cores never get there.
SPINS = 4000
# The barrier yields through the C library's sched_yield, which POSIX systems have.
SUPPORTED = os.name == "posix"


def _slot(context, builder, signature, args):
    ary = context.make_array(signature.args[0])(context, builder, args[0])
    return cgutils.get_item_pointer(context, builder, signature.args[0], ary, [args[1]])


@intrinsic
def atomic_load(typingctx, arr, idx):
    def codegen(context, builder, signature, args):
        return builder.load_atomic(_slot(context, builder, signature, args), "acquire", 8)

    return types.int64(arr, idx), codegen


@intrinsic
def atomic_store(typingctx, arr, idx, value):
    def codegen(context, builder, signature, args):
        builder.store_atomic(args[2], _slot(context, builder, signature, args), "release", 8)
        return context.get_dummy_value()

    return types.void(arr, idx, value), codegen


@intrinsic
def sched_yield(typingctx):
    def codegen(context, builder, signature, args):
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.IntType(32), []), "sched_yield"
        )
        builder.call(fn, [])
        return context.get_dummy_value()

    return types.void(), codegen


def new_sync(workers):
    """The counters of `workers` workers, all at 0 (a fresh one for every run of the kernel)."""
    return np.zeros(LINE * (workers + 1), np.int64)


def abort(sync):
    """Raise the abort flag (from Python, for a worker that failed before its kernel ran)."""
    sync[sync.shape[0] - LINE] = 1


@kernel(inline="always")
def n_workers(sync):
    """How many workers share sync."""
    return sync.shape[0] // LINE - 1


@kernel(inline="always")
def barrier(sync, me, count):
    """Worker me arrives for the count-th time; returns once every worker has (or on abort)."""
    workers = n_workers(sync)
    atomic_store(sync, me * LINE, count)
    for p in range(workers):
        spins = 0
        while atomic_load(sync, p * LINE) < count:
            if atomic_load(sync, workers * LINE) != 0:
                return
            spins += 1
            if spins == SPINS:
                sched_yield()
                spins = 0


@kernel(inline="always")
def share(n, me, workers, align):
    """Worker me's part [lo, hi) of range(n): equal parts, each a multiple of align long but the
    last (whole cache lines of a row), empty for a worker past the end."""
    part = (-(-n // workers) + align - 1) // align * align
    lo = min(n, me * part)
    return lo, min(n, lo + part)

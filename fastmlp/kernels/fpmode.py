"""Flush-to-zero for the duration of training (x86-64): subnormal floats read and written as 0.

A float32 below 1.2e-38 is stored as a subnormal number, and x86 cores take a slow path, tens
of times slower, for every operation that reads or makes one. Training makes them: Adam with L2
drives the weights of inputs that are almost always 0 (blank border pixels) towards 0, and
their products underflow in the next GEMMs. Setting the FTZ (flush results to zero) and DAZ
(read subnormal inputs as zero) bits of the thread's MXCSR register removes the slow path; the
values it changes are below 1.2e-38 (2.2e-308 in float64), and TensorFlow runs its CPU kernels
the same way. MXCSR is per thread: the caller's thread (the kernels and single-threaded BLAS)
is covered, OpenBLAS's own worker threads are not.
"""

import platform
from contextlib import contextmanager

import llvmlite.ir as ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from .jit import kernel

FTZ_DAZ = 0x8040  # MXCSR bit 15 (flush to zero) | bit 6 (denormals are zero)
SUPPORTED = platform.machine().lower() in ("x86_64", "amd64")


def _mxcsr_call(builder, name, pointer):
    fnty = ir.FunctionType(ir.VoidType(), [ir.IntType(8).as_pointer()])
    fn = cgutils.get_or_insert_function(builder.module, fnty, name)
    builder.call(fn, [builder.bitcast(pointer, ir.IntType(8).as_pointer())])


@intrinsic
def _read_mxcsr(typingctx):
    def codegen(context, builder, signature, args):
        slot = cgutils.alloca_once(builder, ir.IntType(32))
        _mxcsr_call(builder, "llvm.x86.sse.stmxcsr", slot)
        return builder.zext(builder.load(slot), ir.IntType(64))

    return types.int64(), codegen


@intrinsic
def _write_mxcsr(typingctx, value):
    def codegen(context, builder, signature, args):
        slot = cgutils.alloca_once(builder, ir.IntType(32))
        builder.store(builder.trunc(args[0], ir.IntType(32)), slot)
        _mxcsr_call(builder, "llvm.x86.sse.ldmxcsr", slot)
        return context.get_dummy_value()

    return types.void(types.int64), codegen


@kernel
def read_mxcsr():
    """The calling thread's MXCSR register."""
    return _read_mxcsr()


@kernel
def write_mxcsr(value):
    """Set the calling thread's MXCSR register (it stays set after the call returns)."""
    _write_mxcsr(value)


@contextmanager
def flush_denormals(enabled=True):
    """FTZ and DAZ on in this thread inside the block, the previous mode restored after it.
    A no-op off x86-64 or with enabled=False."""
    if not (enabled and SUPPORTED):
        yield
        return
    previous = read_mxcsr()
    write_mxcsr(previous | FTZ_DAZ)
    try:
        yield
    finally:
        write_mxcsr(previous)

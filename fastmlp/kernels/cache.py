"""Where compiled kernels come from: the user's cache, else the prebuilt kernels that ship, else the
compiler.

Numba compiles a kernel the first time it is called with new argument types and keeps the
machine code on disk (`cache=True`), keyed by the signature, the CPU it was compiled for (name
and features), the Numba version and the source. A fresh install therefore compiles every kernel
it calls before its first minibatch. fastmlp ships that machine code, compiled once by
`scripts/build_prebuilt.py` for portable CPU targets (TARGETS: x86-64-v4, the AVX-512 level, and
x86-64-v3, the AVX2 + FMA level every x86-64 CPU since 2013-2015 has), for the Python and Numba
versions the archive names:

    fastmlp/kernels/prebuilt/kernels-<sources hash>-<python tag>-numba<version>-<target>.zip
    (and .2.zip, .3.zip, ...: the same archive in parts, each kernel's files whole in one part,
    so that no file the repository tracks grows past PART_BYTES)

Each kernel's cache (KernelCache) looks in two places, in order:
    1. the user's cache (cache_dir() in __init__.py): code compiled on this machine, for its own
       CPU, by an earlier run or `fastmlp warmup`; whatever compiles is written there;
    2. the prebuilt archive, read in place (never copied, never written), used only when
       everything its code assumes holds here: the same kernel sources (the archive's name
       carries their hash, and each entry its source file's hash), Python and Numba versions
       (the entry names and index headers carry them), target triple, and a CPU having every
       feature the target compiled for (AVX2, FMA, BMI2, ...; the first target in TARGETS that
       the CPU can run is taken). The user's own Numba CPU setting (NUMBA_CPU_NAME) is
       respected: with one set, only code for that target is taken.
Anything else (an older CPU, another Python or Numba, an edited kernel, a damaged archive) falls
through to the compiler, as without the archive; FASTMLP_PREBUILT=0 turns the archive off.

Most of an epoch's time is in BLAS (SciPy's OpenBLAS picks its own kernels for the CPU at run
time), so portable code trains about as fast as code compiled for the exact CPU; what differs is
in docs/PERFORMANCE.md. `fastmlp warmup` compiles for the exact CPU.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import pickle
import sys
import zipfile
from pathlib import Path

import numba
from numba.core.caching import FunctionCache

PREBUILT_DIR = Path(__file__).parent / "prebuilt"

# The portable targets, most capable first: LLVM's x86-64 levels with their features spelled out
# (they are what the index key holds, and what a CPU must have to run the code).
X86_64_V3 = (
    "+avx,+avx2,+bmi,+bmi2,+cmov,+cx16,+cx8,+f16c,+fma,+fxsr,+lzcnt,+mmx,+movbe,+popcnt,+sahf,"
    "+sse,+sse2,+sse3,+sse4.1,+sse4.2,+ssse3,+xsave"
)
# On x86-64-v4 (AVX-512) LLVM's generic tuning keeps loops to 256-bit vectors; -prefer-256-bit lets
# them use the full 512 bits, as code compiled for an AMD Zen 4 does. Adam's update, the loop that
# dominates small-batch epochs, runs faster so (docs/PERFORMANCE.md); on Intel AVX-512 parts the
# epoch's BLAS already runs 512-bit kernels, so wider loops add no clock penalty of their own.
TARGETS = {
    "x86-64-v4": X86_64_V3 + ",+avx512bw,+avx512cd,+avx512dq,+avx512f,+avx512vl,-prefer-256-bit",
    "x86-64-v3": X86_64_V3,
}


def sources_hash(sources: Path = Path(__file__).parent) -> str:
    """A hash of every kernel source file (the .py files here): any change to any kernel changes
    it, so caches keyed on it never hold code compiled from other sources. This file is left out:
    it decides where compiled code comes from, not what the code is."""
    digest = hashlib.sha256()
    for path in sorted(Path(sources).glob("*.py")):
        if path.name == Path(__file__).name:
            continue
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def python_tag() -> str:
    return f"py{sys.version_info[0]}{sys.version_info[1]}"


# The most bytes an archive's part holds, about (repositories flag tracked files past 2 MiB).
PART_BYTES = 1_500_000


def archive_name(target: str, sources: str | None = None) -> str:
    """The prebuilt archive's file name for a target, these sources, this Python and this Numba."""
    return f"kernels-{sources or sources_hash()}-{python_tag()}-numba{numba.__version__}-{target}.zip"


def enabled() -> bool:
    return os.environ.get("FASTMLP_PREBUILT", "1").strip().lower() not in ("0", "false", "no", "off")


def cpu_can_run(features: str) -> bool:
    """Whether this machine's CPU has every feature in an LLVM feature string ("+avx2,+fma,...")."""
    import llvmlite.binding as ll

    try:
        host = ll.get_host_cpu_features()
    except RuntimeError:  # LLVM cannot tell on this platform: take nothing on trust
        return False
    wanted = [f[1:] for f in features.split(",") if f.startswith("+")]
    return all(host.get(name, False) for name in wanted)


class Prebuilt:
    """One archive (its parts), opened once: its index files read on demand."""

    def __init__(self, paths: list[Path], target: str):
        self.paths, self.target, self.features = paths, target, TARGETS[target]
        self.where = {name: part for part in map(zipfile.ZipFile, paths) for name in part.namelist()}
        self.magic = None  # (triple, cpu, features) of its code, set by check()

    def check(self, codegen) -> bool:
        """Whether this process may run the archive's code (target triple, CPU features, and the
        user's own Numba CPU setting, if any)."""
        triple, _, _ = codegen.magic_tuple()
        if numba.config.CPU_NAME is not None and (
            numba.config.CPU_NAME != self.target or numba.config.CPU_FEATURES != self.features
        ):
            return False
        if not triple.startswith("x86_64") or not cpu_can_run(self.features):
            return False
        self.magic = (triple, self.target, self.features)
        return True

    @functools.cache  # noqa: B019  one archive per process, kept for its life
    def index(self, filename_base: str, source_stamp) -> dict:
        """A kernel's index (key -> data file name), or {} when it is not there or was built from
        another source or Numba version."""
        name = f"{filename_base}.nbi"
        if name not in self.where:
            return {}
        index = io.BytesIO(self.where[name].read(name))  # two pickles: Numba's version, (stamp, overloads)
        if pickle.load(index) != numba.__version__:
            return {}
        stamp, overloads = pickle.load(index)
        return overloads if stamp == source_stamp else {}

    def data(self, name: str):
        return pickle.loads(self.where[name].read(name))


def archives() -> list[Prebuilt]:
    """The archives that match these kernel sources, this Python and this Numba, most capable
    target first."""
    if not enabled():
        return []
    found, sources = [], sources_hash()
    for target in TARGETS:
        try:
            paths = archive_parts(target, sources)
            if paths:
                found.append(Prebuilt(paths, target))
        except (OSError, zipfile.BadZipFile):
            pass
    return found


def archive_parts(target: str, sources: str | None = None) -> list[Path]:
    """The files of target's archive, first part first ([] when there is none)."""
    first = PREBUILT_DIR / archive_name(target, sources)
    if not first.is_file():
        return []
    return [first, *sorted(PREBUILT_DIR.glob(first.name[: -len(".zip")] + ".[0-9]*.zip"))]


@functools.cache
def usable(codegen) -> Prebuilt | None:
    """The first archive whose code this process can run, or None."""
    return next((a for a in archives() if a.check(codegen)), None)


class KernelCache(FunctionCache):
    """Numba's per-function disk cache (the user's cache folder), with the prebuilt archive
    behind it: a signature missing from the first is looked up in the second."""

    def load_overload(self, sig, target_context):
        cres = super().load_overload(sig, target_context)
        if cres is None:
            cres = self._load_prebuilt(sig, target_context)
        return cres

    def _load_prebuilt(self, sig, target_context):
        try:
            codegen = target_context.codegen()
            archive = usable(codegen)
            if archive is None:
                return None
            overloads = archive.index(self._impl.filename_base, self._impl.locator.get_source_stamp())
            _, _, code_hash = self._index_key(sig, codegen)
            name = overloads.get((sig, archive.magic, code_hash))
            if name is None:
                return None
            return self._impl.rebuild(target_context, archive.data(name))
        except Exception:  # a damaged or foreign archive entry: compile instead, as without it
            return None


def enable(dispatcher) -> None:
    """Give a Numba dispatcher the two-place cache; Numba's own disk cache if that cannot be made
    (another Numba's internals); none if no folder can be written (the kernels then compile in
    every process, as Numba does without a cache, rather than fail to import)."""
    try:
        dispatcher._cache = KernelCache(dispatcher.py_func)
    except Exception:
        try:
            dispatcher.enable_caching()
        except Exception:
            pass

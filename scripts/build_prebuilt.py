"""Build the prebuilt kernels that ship in fastmlp/kernels/prebuilt/ (see fastmlp/kernels/cache.py).

    python scripts/build_prebuilt.py            # for this Python and this Numba

For each portable CPU target (cache.TARGETS), compiles every kernel path (fastmlp.warmup.exercise,
float32 and float64 side by side) into an empty cache folder, then packs the kernels Python calls
(each holds the code of every kernel it calls) into
kernels-<sources hash>-<python tag>-numba<version>-<target>.zip, and removes every archive built
from other kernel sources (for any Python: none of them can match these sources). Run it after
changing any file in fastmlp/kernels/ and commit the archives: tests/test_compiled_paths.py
fails while they are missing for the kernels as they are.
"""

from __future__ import annotations

import json
import lzma
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fastmlp.kernels import cache  # noqa: E402
from fastmlp.warmup import DTYPES, warm_up  # noqa: E402


def pack(files: list[Path], target_path: Path) -> None:
    """files into the archive at target_path, atomically and reproducibly (fixed dates, sorted
    names), in parts of at most cache.PART_BYTES compressed (target_path, then .2.zip, ...; a
    kernel's files, its index and its code, kept in one part), replacing any earlier parts."""
    kernels: dict[str, list[Path]] = {}
    for path in sorted(files):
        kernels.setdefault(path.name.split(".py3")[0], []).append(path)
    sized = sorted(
        ((sum(len(lzma.compress(p.read_bytes())) for p in group), group) for group in kernels.values()),
        key=lambda item: -item[0],
    )
    parts: list[list] = []  # [bytes, files]: first fit, largest kernel first
    for size, group in sized:
        part = next((part for part in parts if part[0] + size <= cache.PART_BYTES), None)
        if part is None:
            parts.append(part := [0, []])
        part[0] += size
        part[1] += group
    stem = target_path.name[: -len(".zip")]
    for old in target_path.parent.glob(stem + ".[0-9]*.zip"):
        old.unlink()
    for i, (_, names) in enumerate(parts, 1):
        path = target_path if i == 1 else target_path.with_name(f"{stem}.{i}.zip")
        partial = path.with_suffix(".partial")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_LZMA) as archive:
            for name in sorted(names):
                info = zipfile.ZipInfo(name.name, date_time=(2020, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_LZMA
                archive.writestr(info, name.read_bytes())
        partial.replace(path)


def missed_entries(env: dict) -> set[str]:
    """The kernels a fresh process (empty user cache, the archive on) still compiles for calls
    from Python: those a first pass saw compiled only inside another kernel before Python called
    them (the compile listener cannot tell those apart)."""
    with tempfile.TemporaryDirectory() as empty:
        check = dict(env, NUMBA_CACHE_DIR=empty, FASTMLP_PREBUILT="1")
        code = f"from fastmlp.warmup import _child; _child({DTYPES!r})"
        out = subprocess.run(
            [sys.executable, "-c", code], env=check, capture_output=True, text=True, check=True
        )
    return set(json.loads(out.stdout.strip().splitlines()[-1])["entries"])


def build(target: str) -> Path:
    sources = cache.sources_hash()
    cache.PREBUILT_DIR.mkdir(exist_ok=True)
    target_path = cache.PREBUILT_DIR / cache.archive_name(target, sources)
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(
            os.environ,
            NUMBA_CACHE_DIR=tmp,
            NUMBA_CPU_NAME=target,
            NUMBA_CPU_FEATURES=cache.TARGETS[target],
            FASTMLP_PREBUILT="0",  # compile everything: nothing may come from an older archive
        )
        t0 = time.perf_counter()
        entries = set()
        for row in warm_up(env=env):
            print(f"{target} {row['dtype']}: compiled {row['compiled']} kernels in {row['seconds']:.1f} s")
            entries.update(row["entries"])
        # Only the kernels Python calls: each one's machine code holds every kernel it calls (Numba
        # links them in), so the callees' own entries would add size and no start-up. A fresh
        # process then checks the archive: whatever it still compiles joins it, until nothing does.
        compiled = sorted(
            p for p in (Path(tmp) / f"kernels-{sources}").rglob("*") if p.suffix in (".nbi", ".nbc")
        )
        if not compiled:
            raise SystemExit(f"nothing was compiled into {tmp}")
        while True:
            files = [p for p in compiled if p.name.split("-")[0] in entries]
            pack(files, target_path)
            missed = missed_entries(env) - entries
            if not missed:
                break
            print(f"{target}: also called from Python: {', '.join(sorted(missed))}")
            entries |= missed
    for old in cache.PREBUILT_DIR.glob("kernels-*.zip"):
        if not old.name.startswith(f"kernels-{sources}-"):  # other sources: it can never match again
            old.unlink()
            print(f"removed {old.name} (earlier kernel sources)")
    parts = cache.archive_parts(target, sources)
    sizes = ", ".join(f"{p.stat().st_size / 1e6:.1f}" for p in parts)
    seconds = time.perf_counter() - t0
    name = target_path.relative_to(ROOT)
    print(f"{name}: {len(files)} files, {len(parts)} parts ({sizes} MB), {seconds:.0f} s")
    return target_path


if __name__ == "__main__":
    for name in cache.TARGETS:
        build(name)

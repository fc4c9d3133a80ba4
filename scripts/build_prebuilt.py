"""Build the prebuilt kernels that ship in fastmlp/kernels/prebuilt/ (see fastmlp/kernels/cache.py).

    python scripts/build_prebuilt.py            # for this Python and this Numba

For each portable CPU target (cache.TARGETS), compiles every kernel path (fastmlp.warmup.exercise,
float32 and float64 side by side) into an empty cache folder, then packs that folder into
kernels-<sources hash>-<python tag>-numba<version>-<target>.zip, and removes every archive built
from other kernel sources (for any Python: none of them can match these sources). Run it after
changing any file in fastmlp/kernels/ and commit the archives: tests/test_compiled_paths.py
fails while they are missing for the kernels as they are.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fastmlp.kernels import cache  # noqa: E402
from fastmlp.warmup import warm_up  # noqa: E402


def build(target: str) -> Path:
    sources = cache.sources_hash()
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(
            os.environ,
            NUMBA_CACHE_DIR=tmp,
            NUMBA_CPU_NAME=target,
            NUMBA_CPU_FEATURES=cache.TARGETS[target],
            FASTMLP_PREBUILT="0",  # compile everything: nothing may come from an older archive
        )
        t0 = time.perf_counter()
        for row in warm_up(env=env):
            print(f"{target} {row['dtype']}: compiled {row['compiled']} kernels in {row['seconds']:.1f} s")
        folder = Path(tmp) / f"kernels-{sources}"
        files = sorted(p for p in folder.rglob("*") if p.suffix in (".nbi", ".nbc"))
        if not files:
            raise SystemExit(f"nothing was compiled into {folder}")
        cache.PREBUILT_DIR.mkdir(exist_ok=True)
        target_path = cache.PREBUILT_DIR / cache.archive_name(target, sources)
        partial = target_path.with_suffix(".partial")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_LZMA) as archive:
            for path in files:
                info = zipfile.ZipInfo(path.name, date_time=(2020, 1, 1, 0, 0, 0))  # reproducible
                info.compress_type = zipfile.ZIP_LZMA
                archive.writestr(info, path.read_bytes())
        partial.replace(target_path)
    for old in cache.PREBUILT_DIR.glob("kernels-*.zip"):
        if not old.name.startswith(f"kernels-{sources}-"):  # other sources: it can never match again
            old.unlink()
            print(f"removed {old.name} (earlier kernel sources)")
    size = target_path.stat().st_size / 1e6
    seconds = time.perf_counter() - t0
    print(f"{target_path.relative_to(ROOT)}: {len(files)} files, {size:.1f} MB, {seconds:.0f} s")
    return target_path


if __name__ == "__main__":
    for name in cache.TARGETS:
        build(name)

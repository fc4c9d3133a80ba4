"""Load speed and peak memory: fastmlp's table loading against pandas and pyarrow alone.

    python scripts/bench_load.py [--rows 2000000] [--features 100] [--repeats 3]
                                 [--dir /tmp/bench_load] [--ways fastmlp,pyarrow ...]

Makes (once, in --dir) a CSV of `rows` x `features` numbers (4 decimals) + an integer label
(about 1.5 GB for 2,000,000 x 100) and its Parquet twin (the same values as float64, the label
int64), then times each way of getting the inputs as float32 and the labels in memory, each in a
fresh process so its peak resident memory (ru_maxrss, less the interpreter's after imports) is
its own:

    fastmlp            load_dataset({"path": ...}) with no splits and no preprocessing: float32 X, y
                       (a numeric table is read in blocks: fastmlp/data/stream.py)
    fastmlp (splits)   the defaults `fastmlp train` uses: validation 0.1, test 0.2, standardized
                       (what a training run holds when it starts)
    fastmlp (general)  no splits, through the general table path (stream.py's reader turned off)
    pandas             pd.read_csv / pd.read_parquet, then .to_numpy(float32) and the label column
    pandas[pyarrow]    pd.read_csv(engine="pyarrow"), the same conversion
    pyarrow            pyarrow.csv.read_csv / parquet.read_table, then each column to float32
    pyarrow (read)     the Arrow table alone, no NumPy array made

Each round runs every way once, in turn (the machine drifts); prints the median seconds and peak
MB per way, and each one's ratio against fastmlp.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np

CODE = {
    "fastmlp": """
from fastmlp.data import load_dataset
def run(path):
    ds = load_dataset({"path": path, "validation_split": 0, "test_split": 0, "preprocessing": "none"})
    return ds.X_train, ds.y_train
""",
    "fastmlp (splits)": """
from fastmlp.data import load_dataset
def run(path):
    ds = load_dataset({"path": path})
    return ds.X_train, ds.y_train
""",
    "fastmlp (general)": """
from fastmlp.data import load_dataset, stream
stream.read_numeric = lambda *args: None
def run(path):
    ds = load_dataset({"path": path, "validation_split": 0, "test_split": 0, "preprocessing": "none"})
    return ds.X_train, ds.y_train
""",
    "pandas": """
import numpy as np, pandas as pd
def run(path):
    df = pd.read_parquet(path) if path.endswith(".parquet") else pd.read_csv(path)
    y = df.pop("label").to_numpy()
    return df.to_numpy(np.float32), y
""",
    "pandas[pyarrow]": """
import numpy as np, pandas as pd
def run(path):
    df = pd.read_csv(path, engine="pyarrow")
    y = df.pop("label").to_numpy()
    return df.to_numpy(np.float32), y
""",
    "pyarrow": """
import numpy as np, pyarrow.csv as pacsv, pyarrow.parquet as pq
def run(path):
    t = pq.read_table(path) if path.endswith(".parquet") else pacsv.read_csv(path)
    X = np.empty((t.num_rows, t.num_columns - 1), np.float32)
    for j in range(t.num_columns - 1):
        X[:, j] = t.column(j).to_numpy()
    return X, t.column(t.num_columns - 1).to_numpy()
""",
    "pyarrow (read)": """
import pyarrow.csv as pacsv, pyarrow.parquet as pq
def run(path):
    t = pq.read_table(path) if path.endswith(".parquet") else pacsv.read_csv(path)
    return t, None
""",
}

HARNESS = """
import json, resource, sys, time
{code}
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
X, y = run(sys.argv[1])
seconds = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"seconds": seconds, "peak_mb": (peak - base) / 1024, "shape": list(X.shape)}}))
"""


def make_files(folder: Path, rows: int, features: int) -> tuple[Path, Path]:
    """The CSV and its Parquet twin, written block by block from one seeded stream."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    stem = f"wide_{rows}x{features}"
    csv_path, parquet_path = folder / f"{stem}.csv", folder / f"{stem}.parquet"
    if csv_path.exists() and parquet_path.exists():
        return csv_path, parquet_path
    names = [f"x{j}" for j in range(features)]
    schema = pa.schema([*(pa.field(n, pa.float64()) for n in names), pa.field("label", pa.int64())])
    rng = np.random.default_rng(0)
    with csv_path.open("w") as f, pq.ParquetWriter(parquet_path, schema) as writer:
        f.write(",".join([*names, "label"]) + "\n")
        for start in range(0, rows, 100_000):
            n = min(100_000, rows - start)
            X, y = np.round(rng.normal(size=(n, features)), 4), rng.integers(0, 10, n)
            np.savetxt(f, np.column_stack([X, y]), fmt=["%.4f"] * features + ["%d"], delimiter=",")
            arrays = [pa.array(X[:, j]) for j in range(features)]
            writer.write_table(pa.table([*arrays, pa.array(y)], schema=schema))
    return csv_path, parquet_path


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        return "CPU unknown"


def measure(way: str, path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", HARNESS.format(code=CODE[way]), str(path)], capture_output=True, text=True
    )
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1]}
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--features", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dir", default="/tmp/bench_load")
    parser.add_argument("--ways", default=",".join(CODE), help="comma-separated, of: " + ", ".join(CODE))
    args = parser.parse_args()
    csv_path, parquet_path = make_files(Path(args.dir), args.rows, args.features)
    chosen = [w.strip() for w in args.ways.split(",")]
    print(f"float32 inputs: {args.rows * args.features * 4 / 2**20:.0f} MB; {cpu_name()}")
    for path in (csv_path, parquet_path):
        print(f"\n{path.name}: {path.stat().st_size / 1e6:.0f} MB")
        print(f"{'way':<18}{'median s':>10}{'peak MB':>10}{'s vs fastmlp':>14}{'MB vs fastmlp':>15}")
        ways = [w for w in chosen if not (w == "pandas[pyarrow]" and path.suffix == ".parquet")]
        runs = {way: [] for way in ways}
        for _ in range(args.repeats):  # rounds of every way in turn: the machine drifts
            for way in ways:
                runs[way].append(measure(way, path))
        results = {}
        for way, done in runs.items():
            if any("error" in r for r in done):
                print(f"{way:<18}  failed: {next(r['error'] for r in done if 'error' in r)}")
                continue
            results[way] = (
                statistics.median(r["seconds"] for r in done),
                statistics.median(r["peak_mb"] for r in done),
            )
        base = results.get("fastmlp")
        for way, (seconds, peak) in results.items():
            ratio = f"{seconds / base[0]:>14.2f}{peak / max(base[1], 1):>15.2f}" if base else ""
            print(f"{way:<18}{seconds:>10.2f}{peak:>10.0f}{ratio}", flush=True)


if __name__ == "__main__":
    main()

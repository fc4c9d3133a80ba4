"""Load speed and peak memory: fastmlp's table loading against pandas and pyarrow alone.

    python scripts/bench_load.py [--rows 200000] [--parquet-rows 2500000] [--repeats 3]
                                 [--dir /tmp/bench_load]

Makes (once, in --dir) a CSV of `rows` x 50 float columns + an integer label (about 92 MB for
200,000 rows) and a Parquet file of `parquet-rows` x 50 float64 columns + label (about 1 GB for
2,500,000 rows), then times each way of getting float32 inputs and the labels in memory, each in
a fresh process so its peak resident memory (ru_maxrss, less the interpreter's after imports) is
its own:

    fastmlp            load_dataset({"path": ...}) with no splits and no preprocessing: float32 X, y
    pandas             pd.read_csv / pd.read_parquet, then .to_numpy(float32) and the label column
    pandas[pyarrow]    pd.read_csv(engine="pyarrow"), the same conversion
    pyarrow            pyarrow.csv.read_csv / parquet.read_table, then each column to float32
    pyarrow (read)     the Arrow table alone, no NumPy array made

Prints the median seconds and peak MB per way, and each one's ratio against fastmlp.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np

N_FEATURES = 50

CODE = {
    "fastmlp": """
from fastmlp.data import load_dataset
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


def make_files(folder: Path, rows: int, parquet_rows: int) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    csv_path, parquet_path = folder / f"wide_{rows}.csv", folder / f"wide_{parquet_rows}.parquet"
    rng = np.random.default_rng(0)
    names = [f"x{j}" for j in range(N_FEATURES)]
    if not csv_path.exists():
        X = rng.normal(size=(rows, N_FEATURES))
        y = rng.integers(0, 10, rows)
        with csv_path.open("w") as f:
            f.write(",".join([*names, "label"]) + "\n")
            for start in range(0, rows, 10000):
                block = np.column_stack([X[start : start + 10000], y[start : start + 10000]])
                np.savetxt(f, block, fmt=["%.6f"] * N_FEATURES + ["%d"], delimiter=",")
    if not parquet_path.exists():
        import pyarrow as pa
        import pyarrow.parquet as pq

        schema = pa.schema([*(pa.field(n, pa.float64()) for n in names), pa.field("label", pa.int64())])
        with pq.ParquetWriter(parquet_path, schema) as writer:
            for start in range(0, parquet_rows, 250_000):
                n = min(250_000, parquet_rows - start)
                block = rng.normal(size=(n, N_FEATURES))
                arrays = [pa.array(block[:, j]) for j in range(N_FEATURES)]
                writer.write_table(pa.table([*arrays, pa.array(rng.integers(0, 10, n))], schema=schema))
    return csv_path, parquet_path


def measure(way: str, path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", HARNESS.format(code=CODE[way]), str(path)], capture_output=True, text=True
    )
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1]}
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--parquet-rows", type=int, default=2_500_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dir", default="/tmp/bench_load")
    args = parser.parse_args()
    csv_path, parquet_path = make_files(Path(args.dir), args.rows, args.parquet_rows)
    for path in (csv_path, parquet_path):
        size = path.stat().st_size / 1e6
        print(f"\n{path.name}: {size:.0f} MB")
        print(f"{'way':<18}{'median s':>10}{'peak MB':>10}{'s vs fastmlp':>14}{'MB vs fastmlp':>15}")
        ways = [w for w in CODE if not (w == "pandas[pyarrow]" and path.suffix == ".parquet")]
        results = {}
        for way in ways:
            runs = [measure(way, path) for _ in range(args.repeats)]
            if any("error" in r for r in runs):
                print(f"{way:<18}  failed: {next(r['error'] for r in runs if 'error' in r)}")
                continue
            results[way] = (
                statistics.median(r["seconds"] for r in runs),
                statistics.median(r["peak_mb"] for r in runs),
            )
        base = results.get("fastmlp")
        for way, (seconds, peak) in results.items():
            ratio = f"{seconds / base[0]:>14.2f}{peak / max(base[1], 1):>15.2f}" if base else ""
            print(f"{way:<18}{seconds:>10.2f}{peak:>10.0f}{ratio}")


if __name__ == "__main__":
    main()

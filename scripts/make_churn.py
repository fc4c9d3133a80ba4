"""Write configs/data/churn.csv.gz: a generated customer table with the mess real tables have.

    python scripts/make_churn.py [--rows 6000] [--out configs/data/churn.csv.gz]

Semicolon-separated, gzip, a header; text columns (region, plan, payment, device), whole and
real numbers, missing cells (empty or NA) in four columns, and a yes/no target `churned`
drawn from a known logistic model of the columns (so the best possible accuracy is known
to be below 1: the labels are noisy by construction). Seeded: the same file every time.
"""

from __future__ import annotations

import argparse
import gzip
from pathlib import Path

import numpy as np

REGIONS = ["north", "south", "east", "west", "islands"]
PLANS = ["basic", "plus", "pro"]
PAYMENTS = ["card", "bank transfer", "invoice"]
DEVICES = ["android", "ios", "web"]


def make(rows: int, seed: int = 0) -> tuple[list[str], list[list[str]]]:
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 85, rows)
    tenure = rng.gamma(2.0, 14.0, rows).round().astype(int)
    plan = rng.choice(3, rows, p=[0.5, 0.3, 0.2])
    region = rng.choice(5, rows, p=[0.3, 0.25, 0.2, 0.2, 0.05])
    payment = rng.choice(3, rows, p=[0.5, 0.3, 0.2])
    device = rng.choice(3, rows)
    monthly = np.round(12 + 15 * plan + rng.normal(0, 4, rows), 2)
    calls = rng.poisson(1.0 + 1.5 * (plan == 0), rows)
    # The known model: short tenure, many support calls, invoices and the islands churn more.
    z = (
        0.8
        - 0.045 * tenure
        + 0.55 * calls
        + 0.9 * (payment == 2)
        + 0.7 * (region == 4)
        - 0.5 * (plan == 2)
        + 0.02 * (monthly - 30)
        - 0.01 * (age - 45)
    )
    churned = rng.random(rows) < 1 / (1 + np.exp(-z))
    header = [
        "age",
        "region",
        "plan",
        "tenure_months",
        "monthly_fee",
        "support_calls",
        "payment",
        "device",
        "churned",
    ]
    table = []
    for i in range(rows):
        row = [
            str(age[i]),
            REGIONS[region[i]],
            PLANS[plan[i]],
            str(tenure[i]),
            f"{monthly[i]:.2f}",
            str(calls[i]),
            PAYMENTS[payment[i]],
            DEVICES[device[i]],
            "yes" if churned[i] else "no",
        ]
        table.append(row)
    # Gaps as exports have them: empty cells and NA, in four columns.
    for col, share, token in ((0, 0.04, ""), (4, 0.03, "NA"), (7, 0.08, ""), (1, 0.02, "NA")):
        for i in np.flatnonzero(rng.random(rows) < share):
            table[i][col] = token
    return header, table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=6000)
    parser.add_argument(
        "--out", default=str(Path(__file__).resolve().parents[1] / "configs/data/churn.csv.gz")
    )
    args = parser.parse_args()
    header, table = make(args.rows)
    text = "\n".join(";".join(r) for r in [header, *table]) + "\n"
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(gzip.compress(text.encode(), mtime=0))
    print(f"wrote {out}: {args.rows} rows, {out.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()

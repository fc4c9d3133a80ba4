"""Seconds per epoch: fastmlp against PyTorch (eager, CPU), scikit-learn's MLPClassifier, a plain
NumPy loop, and JAX (jit + scan) when installed, all in one run, same model and data.

    python scripts/bench.py                      # all peers, batch sizes 8 32 128 512
    python scripts/bench.py --batch-sizes 128 --peers torch numpy --repeats 5
    python scripts/bench.py --adam --peers --no-start     # fastmlp SGD vs fastmlp Adam only
    python scripts/bench.py --peers --no-start --threads-compare --predict   # 1 vs 2 threads; predict rows/s
    python scripts/bench.py --peers --no-start --paths-compare --batch-sizes 4 8 16 24   # ROW_STREAMING

Model: 784-256-128-10, relu, softmax cross-entropy, SGD lr 0.1, L2 1e-4, float32.
Data: Fashion-MNIST's 60,000 training images when installed, else random data of the same shape
(the run says which). Each of --repeats rounds times a reference GEMM (NumPy's float32 2048^3
GFLOP/s) and then one epoch of everything in the row (fastmlp SGD, Adam, peers), each warmed up on
a slice first; every epoch timed includes its own shuffle (JAX: a permutation whose minibatches the
jitted scan gathers from X on the device). Seconds are medians over the rounds; every ratio
(fastmlp / peer: below 1 means fastmlp is faster; %GEMM, fastmlp's GFLOP/s over that round's GEMM
figure) is the median of the rounds' own ratios, so drift within the run moves both sides of each
ratio together. Every timing starts after a pause of SETTLE seconds: a BLAS keeps its threads
spinning after a call, and the next library timed inside that spin would share the cores with it
(see SETTLE). Peers need the `bench`
extra (torch==2.13.0, scikit-learn); a missing one is reported and skipped.
--adam adds fastmlp with Adam (lr 1e-3, betas 0.9/0.999, same L2) beside fastmlp's SGD: its
seconds and the ratio adam/sgd, and each round's own ratio at the end of the row.
--threads-compare adds fastmlp's seconds per epoch on one thread (BLAS and Numba limited to 1)
beside the run's thread count: the speed-up from the second core.
--paths-compare times fastmlp's two kernel paths at every batch size, whichever the trainer would
pick: the row-streaming forward (forced) against BLAS forward (forced); the evidence for
minibatches.ROW_STREAMING.
--predict times predict_proba on 10,000 rows (rows per second, median of --repeats rounds, at
least 5, each timing every predictor once): fastmlp's MLP.predict_proba, PyTorch's module under
torch.inference_mode, scikit-learn's MLPClassifier.predict_proba, the same 784-256-128-10 network.
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np

SIZES = [784, 256, 128, 10]
LR, L2 = 0.1, 1e-4
ADAM = {"name": "adam", "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8}
ADAM_LR = 1e-3


def model_flops(n):
    """FLOPs of one epoch over n rows: forward 2 n sum(fan_in fan_out), dW the same, and the
    hidden deltas 2 n fan_in fan_out for every layer but the first (no delta for the inputs)."""
    mm = [a * b for a, b in zip(SIZES[:-1], SIZES[1:], strict=True)]
    return 2 * n * (2 * sum(mm) + sum(mm[1:]))


def load_data(seed=0):
    try:
        from fastmlp.data import load_dataset

        ds = load_dataset({"name": "fashion-mnist", "preprocessing": "scale", "validation_split": 0.0})
        return ds.X_train, ds.y_train, f"Fashion-MNIST ({ds.source})"
    except Exception as e:  # missing data is a reason to fall back, stated in the output
        rng = np.random.default_rng(seed)
        X = rng.random((60000, 784), dtype=np.float32)
        y = rng.integers(0, 10, 60000)
        return X, y, f"random data of Fashion-MNIST's shape (Fashion-MNIST unavailable: {e})"


# -- peers: each returns a function that runs and times one epoch at a batch size (settle() first) --


# Each BLAS in the process (NumPy's OpenBLAS, SciPy's that Numba's kernels call, PyTorch's, XLA's)
# keeps its threads spinning for a while after a call (OpenBLAS: about 0.1-0.2 s here); a library
# timed inside another's spin shares the cores with it. Measured, 4096x784 @ 784x256 float32 on 2
# cores: SciPy's OpenBLAS 28.5 ms right after NumPy's, 13.2 ms after a 0.5 s pause, 13.7 ms after
# its own. Every timing starts after this pause.
SETTLE = 0.3


def settle():
    """Let the previous library's spinning threads go to sleep before a timing starts."""
    time.sleep(SETTLE)


def timed(epoch, n):
    """Warm `epoch` up on 2,048 rows, then return a function that times one epoch over n rows."""
    epoch(2048)

    def run():
        t = time.perf_counter()
        epoch(n)
        return time.perf_counter() - t

    return run


def fastmlp_epoch(X, y, batch, optimizer="sgd", lr=LR, path=None):
    """path None: the trainer's choice; "rows" or "blas" forces that kernel path."""
    from fastmlp import MLP, fit, minibatches

    def one(n):
        chosen = minibatches.ROW_STREAMING
        if path is not None:
            minibatches.ROW_STREAMING = (1, 1 << 30) if path == "rows" else (0, 0)
        try:
            h = fit(
                model, X[:n], y[:n], epochs=1, batch_size=batch, learning_rate=lr, l2=L2, optimizer=optimizer
            )
        finally:
            minibatches.ROW_STREAMING = chosen
        return h.rows[0]["seconds"]

    model = MLP(SIZES, seed=0)
    one(2048)
    return lambda: one(len(X))


def torch_net(threads, *tail):
    """784-256-128-10 with ReLU as a torch Sequential (tail: layers after the last Linear)."""
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    layers = [torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128), torch.nn.ReLU()]
    return torch.nn.Sequential(*layers, torch.nn.Linear(128, 10), *tail)


def torch_epoch(X, y, batch, threads):
    import torch

    net = torch_net(threads)
    opt = torch.optim.SGD(net.parameters(), lr=LR, weight_decay=L2)
    loss_fn = torch.nn.CrossEntropyLoss()
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y.astype(np.int64))

    def epoch(n):
        order = torch.randperm(n)
        for start in range(0, n, batch):
            idx = order[start : start + batch]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(Xt[idx]), yt[idx])
            loss.backward()
            opt.step()

    return timed(epoch, len(X))


def sklearn_epoch(X, y, batch):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(
        hidden_layer_sizes=(256, 128),
        solver="sgd",
        batch_size=batch,
        learning_rate_init=LR,
        alpha=L2,
        momentum=0.0,
        max_iter=1,
        random_state=0,
    )
    classes = np.unique(y)
    clf.partial_fit(X[:2048], y[:2048], classes=classes)

    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            t = time.perf_counter()
            clf.partial_fit(X, y)
            return time.perf_counter() - t

    return run


def numpy_epoch(X, y, batch):
    """A plain NumPy forward/backward loop, written as a careful user would (float32 throughout)."""
    rng = np.random.default_rng(0)
    Ws = [
        rng.uniform(-r, r, (a, b)).astype(np.float32)
        for a, b in zip(SIZES[:-1], SIZES[1:], strict=True)
        for r in [np.sqrt(6 / (a + b))]
    ]
    bs = [np.zeros(b, np.float32) for b in SIZES[1:]]
    lr, l2 = np.float32(LR), np.float32(L2)

    def step(x, t):
        hs = [x]
        for k, (W, b) in enumerate(zip(Ws, bs, strict=True)):
            z = hs[-1] @ W + b
            hs.append(np.maximum(z, 0) if k < len(Ws) - 1 else z)
        z = hs[-1]
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        p[np.arange(len(t)), t] -= 1
        delta = p / np.float32(len(t))
        for k in range(len(Ws) - 1, -1, -1):
            dW = hs[k].T @ delta + l2 * Ws[k]
            db = delta.sum(0)
            if k:
                delta = (delta @ Ws[k].T) * (hs[k] > 0)
            Ws[k] -= lr * dW
            bs[k] -= lr * db

    def epoch(n):
        order = rng.permutation(n)
        for start in range(0, n, batch):
            idx = order[start : start + batch]
            step(X[idx], y[idx])

    return timed(epoch, len(X))


def jax_epoch(X, y, batch):
    import jax
    import jax.numpy as jnp

    def init(key):
        params = []
        for a, b in zip(SIZES[:-1], SIZES[1:], strict=True):
            key, sub = jax.random.split(key)
            r = np.sqrt(6 / (a + b))
            params.append((jax.random.uniform(sub, (a, b), jnp.float32, -r, r), jnp.zeros(b, jnp.float32)))
        return params

    def loss(params, x, t):
        h = x
        for W, b in params[:-1]:
            h = jax.nn.relu(h @ W + b)
        z = h @ params[-1][0] + params[-1][1]
        ce = -jnp.mean(jax.nn.log_softmax(z)[jnp.arange(t.shape[0]), t])
        return ce + 0.5 * L2 * sum(jnp.sum(W * W) for W, _ in params)

    @jax.jit
    def epoch(params, Xd, yd, order):
        def body(p, idx):  # each minibatch gathered inside the scan: no shuffled copy of X
            g = jax.grad(loss)(p, Xd[idx], yd[idx])
            return jax.tree_util.tree_map(lambda a, b: a - LR * b, p, g), None

        return jax.lax.scan(body, params, order)[0]

    n = (len(X) // batch) * batch  # scan needs equal batches: the ragged tail is dropped
    rng = np.random.default_rng(0)
    params = init(jax.random.PRNGKey(0))
    Xd, yd = jnp.asarray(X), jnp.asarray(y)  # on the device once, as torch.from_numpy is

    def shuffled():
        return jnp.asarray(rng.permutation(len(X))[:n].reshape(-1, batch).astype(np.int32))

    jax.block_until_ready(epoch(params, Xd, yd, shuffled()))  # compile

    def run():
        t = time.perf_counter()  # the epoch's shuffle is timed, as every other peer's (and fastmlp's) is
        jax.block_until_ready(epoch(params, Xd, yd, shuffled()))
        return time.perf_counter() - t

    return run


def predict_rates(X, y, repeats, peers, threads):
    """Rows per second of predict_proba on the first 10,000 rows, for fastmlp and each peer."""
    from fastmlp import MLP, fit

    rows = X[:10_000]
    model = MLP(SIZES, seed=0)
    fit(model, X[:2048], y[:2048], epochs=1, batch_size=128, learning_rate=LR)

    runs = {"fastmlp": lambda: model.predict_proba(rows)}
    if "torch" in peers:
        import torch

        net = torch_net(threads, torch.nn.Softmax(dim=1))
        rt = torch.from_numpy(rows)

        def torch_predict():
            with torch.inference_mode():
                return net(rt).numpy()

        runs["torch"] = torch_predict
    if "sklearn" in peers:
        from sklearn.neural_network import MLPClassifier

        clf = MLPClassifier(hidden_layer_sizes=(256, 128), max_iter=1, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf.partial_fit(X[:2048], y[:2048], classes=np.unique(y))
        runs["sklearn"] = lambda: clf.predict_proba(rows)
    # Rounds alternate the predictors (each timed once per round) so drift moves them together.
    times = {name: [] for name in runs}
    for f in runs.values():
        f()  # warm
    for _ in range(max(repeats, 5)):
        for name, f in runs.items():
            settle()
            t = time.perf_counter()
            f()
            times[name].append(time.perf_counter() - t)
    rates = {name: len(rows) / statistics.median(ts) for name, ts in times.items()}
    return rates


# -- machine-level figures -------------------------------------------------------------------


@functools.cache
def _gemm_operands(m, k, n):
    rng = np.random.default_rng(0)
    a, b = rng.random((m, k), dtype=np.float32), rng.random((k, n), dtype=np.float32)
    return a, b, np.empty((m, n), np.float32)


def gemm_gflops(m, k, n, repeats=5):
    """NumPy float32 GEMM GFLOP/s of an (m x k) @ (k x n) product: the median over `repeats`
    timings, each of enough products for about 2 * 10^10 flops, after one untimed product.
    The operands are made once per shape (bench.py times one before every epoch)."""
    a, b, c = _gemm_operands(m, k, n)
    np.matmul(a, b, out=c)
    reps = max(1, int(2e10 // (2 * m * k * n)))
    times = []
    for _ in range(repeats):
        settle()
        t = time.perf_counter()
        for _ in range(reps):
            np.matmul(a, b, out=c)
        times.append((time.perf_counter() - t) / reps)
    return 2 * m * k * n / statistics.median(times) / 1e9


def reference_gemm_gflops():
    """The 2048^3 GEMM each fastmlp epoch is compared with, timed right before it."""
    return gemm_gflops(2048, 2048, 2048, repeats=3)


def numpy_gemm_gflops(repeats=5):
    """float32 GEMM through NumPy's BLAS: a 2048^3 product (the ceiling) and the model's own
    widest product at batch 512 (512x784 @ 784x256)."""
    shapes = {"2048^3": (2048, 2048, 2048), "512x784x256": (512, 784, 256)}
    return {name: gemm_gflops(*shape, repeats=repeats) for name, shape in shapes.items()}


START = """
import time, numpy as np
t0 = time.perf_counter()
from fastmlp import MLP, fit
X = np.random.default_rng(0).random(({b}, 784), dtype=np.float32); y = np.arange({b}) % 10
fit(MLP({sizes}), X, y, epochs=1, batch_size={b})
print(time.perf_counter() - t0)
"""


def start_times(batch):
    """Import + first minibatch, in fresh processes: with an empty Numba cache (cold: compiles)
    and again with the cache it filled (warm)."""
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        code = START.format(b=batch, sizes=SIZES)
        return [
            float(
                subprocess.run(
                    [sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True
                ).stdout
            )
            for _ in ("cold", "warm")
        ]


def one_thread(run):
    """run() with BLAS and Numba limited to one thread."""
    import numba
    from threadpoolctl import threadpool_limits

    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        with threadpool_limits(1):
            return run()
    finally:
        numba.set_num_threads(before)


def round_median(rounds, name):
    return statistics.median(r[name] for r in rounds)


def round_ratio(rounds, a, b):
    """The median over rounds of each round's a / b."""
    return statistics.median(r[a] / r[b] for r in rounds)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--batch-sizes",
        type=int,
        nargs="*",
        default=[8, 32, 128, 512],
        help="none (a bare --batch-sizes): no epochs timed, e.g. with --predict",
    )
    ap.add_argument(
        "--peers",
        nargs="*",
        default=["torch", "sklearn", "numpy", "jax"],
        choices=["torch", "sklearn", "numpy", "jax"],
        help="none (a bare --peers): fastmlp only",
    )
    ap.add_argument("--adam", action="store_true", help="also time fastmlp with Adam (lr 1e-3): adam/sgd")
    ap.add_argument("--no-start", action="store_true", help="skip the cold/warm start-up timings")
    ap.add_argument("--repeats", type=int, default=3, help="epochs timed per (peer, batch size); median kept")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--rows", type=int, default=None, help="use only the first N training rows")
    ap.add_argument("--threads-compare", action="store_true", help="also time fastmlp on one thread")
    ap.add_argument("--predict", action="store_true", help="predict_proba rows/s on 10,000 rows")
    ap.add_argument("--paths-compare", action="store_true", help="also time row-streaming vs BLAS forward")
    args = ap.parse_args()

    import numba
    from threadpoolctl import threadpool_info, threadpool_limits

    numba.set_num_threads(args.threads)
    threadpool_limits(args.threads)

    X, y, source = load_data()
    if args.rows:
        X, y = X[: args.rows], y[: args.rows]
    X = np.ascontiguousarray(X, dtype=np.float32)
    blas = sorted({f"{p['internal_api']} {p.get('version')} x{p['num_threads']}" for p in threadpool_info()})
    print(f"data: {source}; {X.shape[0]} rows")
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; threads: "
        f"{args.threads} (numba {numba.get_num_threads()}, BLAS {', '.join(blas)})"
    )
    gemm = numpy_gemm_gflops()
    print("NumPy float32 GEMM: " + ", ".join(f"{k} {v:.0f} GFLOP/s" for k, v in gemm.items()))

    peers = {
        "torch": lambda b: torch_epoch(X, y, b, args.threads),
        "sklearn": lambda b: sklearn_epoch(X, y, b),
        "numpy": lambda b: numpy_epoch(X, y, b),
        "jax": lambda b: jax_epoch(X, y, b),
    }
    import importlib.util

    modules = {"torch": "torch", "sklearn": "sklearn", "numpy": "numpy", "jax": "jax"}
    missing = [p for p in args.peers if importlib.util.find_spec(modules[p]) is None]
    if missing:
        print(f"not installed, skipped: {', '.join(missing)}")
    args.peers = [p for p in args.peers if p not in missing]
    flops = model_flops(len(X))
    print(
        f"\n{'batch':>5} {'fastmlp s':>10} {'GFLOP/s':>8} {'GEMM':>7} {'%GEMM':>6}  "
        + (f"{'adam s':>8} {'adam/sgd':>8}  " if args.adam else "")
        + (f"{'1-thr s':>8} {'speed-up':>8}  " if args.threads_compare else "")
        + (f"{'rows s':>8} {'blas s':>8} {'rows/blas':>9}  " if args.paths_compare else "")
        + "  ".join(f"{p + ' s':>10} {'ratio':>6}" for p in args.peers)
    )
    for b in args.batch_sizes:
        runs = {"sgd": fastmlp_epoch(X, y, b)}
        if args.adam:
            runs["adam"] = fastmlp_epoch(X, y, b, ADAM, ADAM_LR)
        if args.threads_compare:
            runs["1-thread"] = functools.partial(one_thread, runs["sgd"])
        if args.paths_compare:
            runs["rows"] = fastmlp_epoch(X, y, b, path="rows")
            runs["blas"] = fastmlp_epoch(X, y, b, path="blas")
        for p in args.peers:
            runs[p] = peers[p](b)
        # Rounds: a reference GEMM, then one epoch of each run. Every ratio is the median over the
        # rounds of that round's own ratio, so a machine whose speed drifts within the run (it
        # does, by 2x at times) moves both sides of each ratio together.
        rounds = []
        for _ in range(args.repeats):
            timings = {"gemm": reference_gemm_gflops()}
            for name, run in runs.items():
                settle()  # nothing between here and the run's own clock calls a BLAS
                timings[name] = run()
            rounds.append(timings)

        median = functools.partial(round_median, rounds)
        ratio = functools.partial(round_ratio, rounds)

        ours = median("sgd")
        share = statistics.median(flops / r["sgd"] / 1e9 / r["gemm"] for r in rounds)
        cells = [f"{median('adam'):8.3f} {ratio('adam', 'sgd'):8.2f}"] if args.adam else []
        if args.threads_compare:
            cells.append(f"{median('1-thread'):8.3f} {ratio('1-thread', 'sgd'):8.2f}")
        if args.paths_compare:
            cells.append(f"{median('rows'):8.3f} {median('blas'):8.3f} {ratio('rows', 'blas'):9.2f}")
        cells += [f"{median(p):10.3f} {ratio('sgd', p):6.2f}" for p in args.peers]
        if args.adam:  # each round's own ratio: drift between rounds on a shared machine shows here
            cells.append("rounds adam/sgd " + " ".join(f"{r['adam'] / r['sgd']:.2f}" for r in rounds))
        row = f"{b:5d} {ours:10.3f} {flops / ours / 1e9:8.1f} {median('gemm'):7.0f} {100 * share:5.0f}%  "
        print(row + "  ".join(cells), flush=True)

    if args.predict:
        rates = predict_rates(X, y, args.repeats, args.peers, args.threads)
        best_peer = max((r for p, r in rates.items() if p != "fastmlp"), default=None)
        print(
            "\npredict_proba, 10,000 rows: "
            + ", ".join(f"{p} {r:,.0f} rows/s" for p, r in rates.items())
            + (f"; fastmlp / fastest peer {rates['fastmlp'] / best_peer:.2f}" if best_peer else "")
        )
    end = numpy_gemm_gflops()
    print("NumPy float32 GEMM at the end: " + ", ".join(f"{k} {v:.0f} GFLOP/s" for k, v in end.items()))
    for b in [] if args.no_start else sorted({min(args.batch_sizes), max(args.batch_sizes)}):
        cold, warm = start_times(b)
        print(
            f"start to first epoch done (batch {b}, float32): "
            f"cold cache {cold:.2f} s, warm cache {warm:.2f} s"
        )


if __name__ == "__main__":
    main()

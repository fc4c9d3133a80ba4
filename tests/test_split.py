"""The epoch on several workers (kernels/split.py): every worker owning a block of rows of each
layer's W, meeting at spin barriers. Against the published update rules in NumPy (test_trainer's
reference loop), against finite differences of J computed in NumPy, against itself for
determinism; the thread budget a sweep sets, and a worker that fails."""

import threading

import numpy as np
import pytest
from conftest import make_problem
from test_trainer import OPTIMIZERS, assert_epochs_follow_the_published_rules

from fastmlp import MLP, minibatches
from fastmlp import workers as workers_module
from fastmlp.kernels import split
from fastmlp.minibatches import Minibatches
from fastmlp.optimizers import parse
from fastmlp.sweep.execute import pinned_threads
from fastmlp.workers import SPLIT_BATCH

# Widths that split unevenly in blocks of 16 rows: 40 inputs -> rows [0, 32) and [32, 40) of W^1
# on two workers, [0, 16), [16, 32), [32, 40) on three; 37 -> [0, 32), [32, 37); 3 outputs: every
# column of the last layer summed on worker 0.
WIDE = (40, 37, 33, 3)


@pytest.mark.parametrize("forward", ["blas", "blocks", "streamed"])
@pytest.mark.parametrize("workers", [2, 3])
@pytest.mark.parametrize("batch", [1, 7, 8, 33, 64, 128])
@pytest.mark.parametrize(
    "optimizer", [OPTIMIZERS[0], OPTIMIZERS[2], OPTIMIZERS[3]], ids=["sgd", "nesterov", "adam"]
)
def test_workers_follow_the_published_rules(workers, batch, optimizer, forward, rng, monkeypatch):
    """70 rows: batch 33 leaves a last minibatch of 4 rows, 128 is one minibatch larger than the
    data; 3 workers on 2 cores still meet (they yield while they wait). The forward products
    through BLAS; through BLAS in blocks of 16 columns (as blas.SMALL_GEMM cuts them, here with a
    limit small enough for these widths); or all through the row-streaming kernel, as the workers
    take them where BLAS has no small-matrix kernels (here at every batch size)."""
    monkeypatch.setattr(minibatches, "blas_small_matrix_kernels", lambda: forward != "streamed")
    if forward == "blocks":
        monkeypatch.setattr(minibatches, "SMALL_GEMM", 300)
    assert_epochs_follow_the_published_rules(
        rng,
        monkeypatch,
        "classification",
        optimizer,
        0.01,
        "rows" if forward == "streamed" else "blas",
        "relu",
        batch,
        70,
        sizes=WIDE,
        workers=workers,
    )


@pytest.mark.parametrize("task", ["multilabel", "regression"])
@pytest.mark.parametrize("optimizer", [OPTIMIZERS[1], OPTIMIZERS[4]], ids=["momentum", "adam-betas"])
def test_workers_with_every_loss(task, optimizer, rng, monkeypatch):
    assert_epochs_follow_the_published_rules(
        rng, monkeypatch, task, optimizer, 0.0, "rows", "tanh", 8, 53, sizes=WIDE, workers=2
    )


def numpy_loss(sizes, params, X, y, l2):
    """J = mean softmax cross-entropy of a relu network + (l2/2) sum ||W||^2, in plain NumPy
    (float64) from the flat buffer's layout (W^k row-major, then b^k): independent of the kernels."""
    h, off, penalty = X, 0, 0.0
    for k, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        W = params[off : off + fan_in * fan_out].reshape(fan_in, fan_out)
        b = params[off + fan_in * fan_out : off + fan_in * fan_out + fan_out]
        off += fan_in * fan_out + fan_out
        penalty += 0.5 * l2 * np.sum(W * W)
        z = h @ W + b
        h = np.maximum(z, 0) if k < len(sizes) - 2 else z
    z = h - h.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return -log_p[np.arange(len(y)), y].mean() + penalty


@pytest.mark.parametrize("workers", [2, 3])
@pytest.mark.parametrize("n", [7, 33])
def test_one_step_of_the_workers_is_minus_lr_times_the_finite_difference_gradient(workers, n, rng):
    """One minibatch of all n rows, plain SGD (its step inside the row blocks' GEMMs): the change
    of every parameter, divided by -lr, against central differences of J in NumPy."""
    sizes, lr, l2 = [40, 37, 33, 3], 1e-3, 0.01
    X, y = make_problem(rng, n, sizes[0], sizes[-1], "classification")
    model = MLP(sizes, dtype="float64", seed=3)
    before = model.params.copy()
    mb = Minibatches(model, X, model.check_y(y, n), np.zeros(0), n, l2, parse("sgd"), workers=workers)
    mb.run(np.arange(n), lr, 0, 1, 0)
    step = (before - model.params) / lr
    eps = 1e-6
    for i in rng.choice(before.size, 60, replace=False):
        up, down = before.copy(), before.copy()
        up[i] += eps
        down[i] -= eps
        fd = (numpy_loss(sizes, up, X, y, l2) - numpy_loss(sizes, down, X, y, l2)) / (2 * eps)
        assert step[i] == pytest.approx(fd, rel=1e-5, abs=1e-8), i


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_a_seed_and_a_worker_count_give_the_same_weights_bit_for_bit(optimizer, rng):
    X, y = make_problem(rng, 300, 40, 3, "classification")
    X = X.astype(np.float32)
    runs = []
    for _ in range(2):
        model = MLP(list(WIDE), dtype="float32", seed=0)
        mb = Minibatches(
            model, X, model.check_y(y, 300), np.zeros(0, np.float32), 8, 1e-4, parse(optimizer), workers=2
        )
        for first in range(0, mb.n_batches, 7):  # several calls per epoch, as a progress display makes
            mb.run(
                np.random.default_rng(1).permutation(300), 0.01, first, min(first + 7, mb.n_batches), first
            )
        runs.append(model.params.copy())
    assert np.array_equal(runs[0], runs[1])


def test_the_workers_take_the_thread_budget_a_sweep_pins(rng):
    """A sweep runs each of its runs inside pinned_threads(cores // runs): one thread each, no
    workers (and BLAS kept to one thread); with two, two workers and BLAS on one thread."""
    X, y = make_problem(rng, 64, 40, 3, "classification")
    model = MLP(list(WIDE), dtype="float64", seed=0)
    for threads, expected in ((1, None), (2, 2)):
        with pinned_threads(threads):
            mb = Minibatches(model, X, model.check_y(y, 64), np.zeros(0), 8, 0.0, parse("sgd"))
        assert (mb.workers and mb.workers.workers) == expected
        assert mb.blas_threads == 1
    with pinned_threads(2):
        large = Minibatches(model, X, model.check_y(y, 64), np.zeros(0), SPLIT_BATCH + 1, 0.0, parse("sgd"))
        dropout = Minibatches(model, X, model.check_y(y, 64), np.zeros(0), 8, 0.0, parse("sgd"), dropout=0.2)
    assert large.workers is None and dropout.workers is None


@pytest.mark.parametrize("broken", [0, 1])
def test_a_worker_that_fails_before_its_kernel_releases_the_others(broken, rng, monkeypatch):
    """One worker raises (an interrupt, say) before it reaches the barrier, in the caller's
    thread (0) or the pool's (1): the other must not wait for it for ever, and the error reaches
    the caller."""
    calls = []

    def failing(me, *args):
        calls.append(me)
        if me == broken:
            raise MemoryError(f"worker {broken}")
        return split.train_batches_split(me, *args)

    monkeypatch.setattr(workers_module, "train_batches_split", failing)
    X, y = make_problem(rng, 64, 40, 3, "classification")
    model = MLP(list(WIDE), dtype="float64", seed=0)
    mb = Minibatches(model, X, model.check_y(y, 64), np.zeros(0), 8, 0.0, parse("sgd"), workers=2)
    outcome = []

    def run():
        try:
            mb.run(np.arange(64), 0.01, 0, mb.n_batches, 0)
        except MemoryError as exc:
            outcome.append(str(exc))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(60)
    assert not thread.is_alive() and outcome == [f"worker {broken}"] and sorted(calls) == [0, 1]


@pytest.mark.parametrize(
    "core, streamed", [("SkylakeX", False), ("SapphireRapids", False), ("Haswell", True), ("Zen", True)]
)
def test_small_minibatches_stream_their_products_where_blas_has_no_small_matrix_kernels(
    core, streamed, monkeypatch
):
    """OpenBLAS's core type (from the CPU's flags) decides: its AVX-512 kernels multiply a half
    layer of 8 rows unpacked, its AVX2 ones pack W each time, so the workers stream those."""
    info = [
        {"internal_api": "openblas", "filepath": "/x/scipy.libs/libscipy_openblas.so", "architecture": core}
    ]
    monkeypatch.setattr(minibatches, "threadpool_info", lambda: info)
    minibatches.blas_small_matrix_kernels.cache_clear()
    try:
        assert minibatches.workers_stream_above(8).tolist() == [
            0 if streamed else minibatches.ROW_STREAMING_WORK
        ]
        assert minibatches.workers_stream_above(SPLIT_BATCH).tolist() == []
    finally:
        minibatches.blas_small_matrix_kernels.cache_clear()

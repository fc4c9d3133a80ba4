"""What a process compiles (kernels/jit.py, kernels/cache.py, fastmlp/warmup.py):

- nothing at `import fastmlp`;
- one specialisation of each kernel per dtype, whatever the task, optimizer or option (so the
  paths users take share compiled code), and no Optional types;
- only the dtype it uses, and no L-BFGS kernel unless it runs L-BFGS;
- nothing at all after `fastmlp warmup`, nor where the prebuilt kernels match this machine;
- and where they do not match (a CPU without the target's features, another Numba version, a
  damaged archive), it compiles instead, with the same results.

Each case runs in a fresh process with a cache folder of its own: only a new process shows what
compiling reaches.
"""

import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from fastmlp.kernels import cache

pytestmark = pytest.mark.slow  # fresh processes that compile whole kernel trees

# Every kind of run a user can make, for the dtypes in argv[1]; prints what was compiled, the
# signatures each kernel holds, and a digest of every run's result.
SCENARIOS = r"""
import json, sys, warnings
import numpy as np
from fastmlp.warmup import compiled_count
at_import = compiled_count()
import scipy.sparse as sp
from numba.core import types
from numba.core.registry import CPUDispatcher
from fastmlp import MLP, MLPClassifier, MLPRegressor, fit

warnings.filterwarnings("ignore")
digest = []
for dtype in sys.argv[1].split(","):
    rng = np.random.default_rng(0)
    X = rng.random((60, 5)).astype(dtype)
    yc = np.arange(60) % 3
    yr = rng.random((60, 2)).astype(dtype)
    labels = {"classification": yc, "regression": yr, "multilabel": (yr > 0.5).astype(dtype), "poisson": yr}
    optimizers = ["sgd", {"name": "sgd", "momentum": 0.9, "nesterov": True}, "adam"]
    for task, y in labels.items():
        for i, opt in enumerate(optimizers):
            m = MLP([5, 4, 3 if task == "classification" else 2], task=task, dtype=dtype, seed=0)
            w = rng.random(60) if i == 1 else None
            fit(m, X, y, X[:10], y[:10], epochs=2, batch_size=16 if i else 8, optimizer=opt,
                dropout=0.2 if i == 2 else 0.0, sample_weight=w)
            digest.append(float(m.params.astype(np.float64).sum()))
    m = MLP([5, 4, 3], dtype=dtype, seed=0)
    for solver in ("adam", "lbfgs"):  # sparse rows
        est = MLPClassifier(solver=solver, max_iter=2, batch_size=8, random_state=0)
        digest.append(float(est.fit(sp.csr_matrix(X), yc).predict_proba(sp.csr_matrix(X)).sum()))
    fit(m, X, yc, epochs=2, optimizer="lbfgs", sample_weight=rng.random(60))
    loss, _ = m.loss_and_gradients(X, yc, l2=0.1, dropout=0.3)
    digest.append(float(m.loss_and_gradients(sp.csr_matrix(X), yc, l2=0.1)[0]))
    digest += [float(m.predict_proba(X).sum()), float(loss), float(m.evaluate(X, yc)["loss"])]
    for solver in ("adam", "sgd", "lbfgs"):
        est = MLPClassifier(solver=solver, max_iter=3, random_state=0)
        digest.append(float(est.fit(X, yc).predict_proba(X).sum()))
    digest.append(float(MLPRegressor(max_iter=3, random_state=0).fit(X, yr[:, 0]).predict(X).sum()))

signatures, optional = {}, []
for module in [m for n, m in sys.modules.items() if n.startswith("fastmlp.kernels.")]:
    for name, f in vars(module).items():
        if isinstance(f, CPUDispatcher) and f.__module__ == module.__name__:
            signatures[name] = [str(s) for s in f.signatures]
            for sig in f.signatures:
                ret = f.overloads[sig].signature.return_type
                for t in (*sig, ret):
                    if isinstance(t, types.Optional) or (
                        isinstance(t, types.BaseTuple) and any(isinstance(u, types.Optional) for u in t)
                    ):
                        optional.append(f"{name}{sig} -> {ret}")
print(json.dumps({"at_import": at_import, "compiled": compiled_count(), "signatures": signatures,
                  "optional": optional, "digest": digest}))
"""

# The kernels Python calls (each compiles the kernels it calls into itself).
ENTRIES = [
    "train_batches",
    "train_batches_split",
    "train_batches_sparse",
    "evaluate_rows",
    "outputs_rows",
    "loss_and_grad",
    "csr_loss_and_grad",
    "full_loss_and_grad",
]


def run(code, *args, cache_dir, prebuilt=True, env=None):
    environment = dict(
        os.environ, NUMBA_CACHE_DIR=str(cache_dir), FASTMLP_PREBUILT="1" if prebuilt else "0", **(env or {})
    )
    out = subprocess.run(
        [sys.executable, "-c", code, *args], env=environment, capture_output=True, text=True, timeout=900
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def warmed(tmp_path_factory):
    """A cache filled by `fastmlp warmup` for this machine's CPU (the prebuilt kernels off), then
    every scenario run from it in a fresh process."""
    cache_dir = tmp_path_factory.mktemp("warmed")
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir), FASTMLP_PREBUILT="0")
    out = subprocess.run(
        [sys.executable, "-m", "fastmlp.cli", "warmup"], env=env, capture_output=True, text=True, timeout=900
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "float32 + float64: every path loads" in out.stdout, out.stdout
    return run(SCENARIOS, "float32,float64", cache_dir=cache_dir, prebuilt=False)


def test_after_warmup_no_path_compiles_and_every_kernel_has_one_specialisation_per_dtype(warmed):
    assert warmed["at_import"] == 0
    assert warmed["compiled"] == 0, "a path the warm-up does not cover compiled"
    for name in ENTRIES:
        sigs = warmed["signatures"][name]
        assert len(sigs) == 2 and "float32" in sigs[0] + sigs[1] and "float64" in sigs[0] + sigs[1], (
            name,
            sigs,
        )
    assert warmed["optional"] == []


def test_a_cold_process_compiles_only_its_dtype_and_only_the_paths_it_calls(tmp_path):
    code = r"""
import json, sys
import numpy as np
from numba.core.registry import CPUDispatcher
from fastmlp import MLPClassifier
from fastmlp.warmup import compiled_count
from fastmlp.kernels import epoch, evaluate, split
X = np.random.default_rng(0).random((50, 4), dtype=np.float32)
MLPClassifier(max_iter=2).fit(X, np.arange(50) % 2)
every = [str(s) for n, m in list(sys.modules.items()) if n.startswith("fastmlp.kernels.")
         for f in vars(m).values() if isinstance(f, CPUDispatcher) for s in f.signatures]
epochs = [*epoch.train_batches.signatures, *split.train_batches_split.signatures]
print(json.dumps({"compiled": compiled_count(), "every": every,
                  "train_batches": [str(s) for s in epochs],
                  "full_loss_and_grad": len(evaluate.full_loss_and_grad.signatures)}))
"""
    result = run(code, cache_dir=tmp_path, prebuilt=False)
    assert result["compiled"] > 0
    assert len(result["train_batches"]) == 1 and "Array(float32" in result["train_batches"][0]
    assert not [sig for sig in result["every"] if "Array(float64" in sig]
    assert result["full_loss_and_grad"] == 0  # no L-BFGS run, no L-BFGS kernel


def prebuilt_usable():
    """Why the prebuilt kernels cannot serve this process, or None when they can."""
    if not cache.archives():
        shipped = sorted(p.name for p in cache.PREBUILT_DIR.glob("*.zip"))
        return f"no prebuilt kernels for {cache.python_tag()} and Numba here (shipped: {shipped})"
    from numba.core.registry import cpu_target

    if cache.usable(cpu_target.target_context.codegen()) is None:
        return "this CPU runs none of the prebuilt targets"
    return None


def test_the_prebuilt_kernels_are_built_from_the_kernels_as_they_are():
    """An archive for this Python and Numba built from other kernel sources means a kernel was
    changed without running scripts/build_prebuilt.py."""
    tail = f"-{cache.python_tag()}-numba{__import__('numba').__version__}-"
    shipped = [p.name for p in cache.PREBUILT_DIR.glob("*.zip") if tail in p.name]
    if not shipped:
        pytest.skip(f"no prebuilt kernels for {tail.strip('-')}")
    for target in cache.TARGETS:
        assert cache.archive_name(target) in shipped, (
            f"{cache.archive_name(target)} is missing: run python scripts/build_prebuilt.py and commit it"
        )


def test_a_fresh_process_with_the_prebuilt_kernels_compiles_nothing(warmed, tmp_path):
    reason = prebuilt_usable()
    if reason:
        pytest.skip(reason)
    result = run(SCENARIOS, "float32,float64", cache_dir=tmp_path)
    assert result["at_import"] == 0
    assert result["compiled"] == 0, "a path the prebuilt kernels do not cover compiled"
    assert not any(tmp_path.rglob("*.nbi")), "loading prebuilt kernels wrote to the user's cache"
    # Portable code against code compiled for this CPU: the same results (wider vectors may
    # reorder the row-streaming forward's sums, hence rounding, not bits).
    np.testing.assert_allclose(result["digest"], warmed["digest"], rtol=1e-5)


# One small kernel, called from Python: loaded from the archive, or compiled.
SOFTMAX = r"""
import json, sys
import numpy as np
from fastmlp.kernels import cache, losses
from fastmlp.warmup import compiled_count
exec(sys.argv[1])  # the test's change to this process
z = np.linspace(-3, 3, 12).reshape(4, 3)
losses.softmax_inplace(z)
print(json.dumps({"compiled": compiled_count(), "z": z.tolist()}))
"""


def damaged_version(folder):
    """Copies of the archives whose index files say another Numba version wrote them."""
    import io
    import pickle

    folder.mkdir()
    for path in cache.PREBUILT_DIR.glob("*.zip"):
        with zipfile.ZipFile(path) as src, zipfile.ZipFile(folder / path.name, "w") as dst:
            for name in src.namelist():
                raw = src.read(name)
                if name.endswith(".nbi"):  # Numba's version pickle, then the index pickle
                    index = io.BytesIO(raw)
                    pickle.load(index)
                    raw = pickle.dumps("0.0.0") + index.read()
                dst.writestr(name, raw)
    return folder


def truncated(folder):
    folder.mkdir()
    for path in cache.PREBUILT_DIR.glob("*.zip"):
        (folder / path.name).write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return folder


@pytest.mark.parametrize(
    "change",
    ["cpu lacks the features", "another numba version", "damaged archive", "user's own cpu name"],
)
def test_prebuilt_kernels_that_do_not_match_are_ignored_and_compiled_afresh(change, tmp_path):
    reason = prebuilt_usable()
    if reason:
        pytest.skip(reason)
    loaded = run(SOFTMAX, "", cache_dir=tmp_path / "loaded")
    assert loaded["compiled"] == 0
    env = None
    if change == "cpu lacks the features":
        patch = "cache.cpu_can_run = lambda features: False"
    elif change == "another numba version":
        patch = f"cache.PREBUILT_DIR = cache.Path({str(damaged_version(tmp_path / 'v'))!r})"
    elif change == "damaged archive":
        patch = f"cache.PREBUILT_DIR = cache.Path({str(truncated(tmp_path / 't'))!r})"
    else:
        patch = ""
        env = {"NUMBA_CPU_NAME": "haswell", "NUMBA_CPU_FEATURES": ""}
    compiled = run(SOFTMAX, patch, cache_dir=tmp_path / "compiled", env=env)
    assert compiled["compiled"] == 1
    assert compiled["z"] == loaded["z"]
    z = np.linspace(-3, 3, 12).reshape(4, 3)
    expected = np.exp(z - z.max(axis=1, keepdims=True))
    np.testing.assert_allclose(loaded["z"], expected / expected.sum(axis=1, keepdims=True), rtol=1e-12)

"""What a run compiles: only the losses its labels can reach, no dropout forward without dropout, and no
Optional types (Numba types both returns of `if x is None: return None` when x is an array, and
an Optional array in a kernel costs a check on every access)."""

import json
import os
import subprocess
import sys

import pytest

# Runs in a fresh process with an empty Numba cache: a kernel loaded from the cache compiles no
# callee, so only a cold process shows what compiling a run reaches.
SCRIPT = r"""
import json, sys
import numpy as np
from numba.core import types
from numba.core.registry import CPUDispatcher
from fastmlp import MLP, fit
from fastmlp.kernels import activations, dense, dropout, epoch, losses, network, optim, rows

task = sys.argv[1]
rng = np.random.default_rng(0)
X = rng.random((40, 5), dtype=np.float32)
if task == "classification":
    y = np.arange(40) % 3
else:
    y = rng.random((40, 3), dtype=np.float32)
model = MLP([5, 4, 3], task=task, seed=0)
momentum = {"name": "sgd", "momentum": 0.9}
fit(model, X, y, X_val=X[:10], y_val=y[:10], epochs=2, batch_size=16, optimizer=momentum)

compiled, optional = {}, []
for module in (activations, dense, dropout, epoch, losses, network, optim, rows):
    for name, f in vars(module).items():
        if isinstance(f, CPUDispatcher) and f.__module__ == module.__name__:
            compiled[name] = len(f.signatures)
            for sig in f.signatures:
                ret = f.overloads[sig].signature.return_type
                for t in (*sig, ret):
                    if isinstance(t, types.Optional) or (
                        isinstance(t, types.BaseTuple) and any(isinstance(u, types.Optional) for u in t)
                    ):
                        optional.append(f"{name}{sig} -> {ret}")
print(json.dumps({"compiled": compiled, "optional": optional}))
"""

TARGET_LOSSES = ["sigmoid_cross_entropy", "poisson_deviance", "squared_error"]
# The backward's undo_dropout and mul_mask still compile: its first layer passes an (n, 0) mask.
DROPOUT = ["dropout_forward"]


def compiled_by(task, tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / task))
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, task], env=env, capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "task, compiled_losses, unreached_losses",
    [
        ("classification", ["softmax_cross_entropy"], TARGET_LOSSES),
        ("regression", ["squared_error"], ["softmax_cross_entropy"]),
    ],
)
def test_a_run_compiles_only_the_losses_its_labels_reach_and_no_dropout_forward(
    task, compiled_losses, unreached_losses, tmp_path
):
    result = compiled_by(task, tmp_path)
    compiled = result["compiled"]
    assert compiled["train_batches"] >= 1 and compiled["evaluate_rows"] + compiled["forward"] >= 1
    for name in compiled_losses:
        assert compiled[name] >= 1, name
    for name in unreached_losses + DROPOUT:
        assert compiled[name] == 0, f"{name} compiled in a {task} run without dropout"
    assert result["optional"] == []

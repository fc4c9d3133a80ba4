"""Config-driven experiments: a grid over config keys, run in parallel, ranked.

    from fastmlp.sweep import sweep
    result = sweep("configs/sweeps/digits_tiny.yaml", workers=2)

See spec.py for the sweep file, execute.py for executors and thread pinning,
results.py for results.csv and the ranking, cli.py for `fastmlp sweep`.
"""

from .api import SweepResult, plan, sweep
from .plot import is_sweep_dir, plot_sweep
from .spec import Run, SweepSpec, expand, load_sweep

__all__ = [
    "sweep",
    "plan",
    "SweepResult",
    "SweepSpec",
    "Run",
    "load_sweep",
    "expand",
    "plot_sweep",
    "is_sweep_dir",
]


def _make_callable() -> None:
    """Let `fastmlp.sweep(...)` call sweep() while `fastmlp.sweep` stays this package, so
    `from fastmlp.sweep import plot_sweep` and `fastmlp.sweep.sweep(...)` work too."""
    import sys
    import types

    class _CallableModule(types.ModuleType):
        def __call__(self, *args, **kwargs):
            return sweep(*args, **kwargs)

    sys.modules[__name__].__class__ = _CallableModule


_make_callable()

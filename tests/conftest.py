import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def make_problem(rng, n, n_in, n_out, task, dtype=np.float64):
    """Random inputs and targets: labels for classification, (n, n_out) floats for regression."""
    X = rng.normal(size=(n, n_in)).astype(dtype)
    if task == "classification":
        y = rng.integers(0, n_out, size=n)
    else:
        y = rng.normal(size=(n, n_out)).astype(dtype)
    return X, y


def sweep_app():
    """A typer app with only `sweep` registered, as fastmlp.cli registers it."""
    import typer

    from fastmlp.sweep.cli import register

    application = typer.Typer()

    @application.callback()
    def main():
        pass

    register(application)
    return application

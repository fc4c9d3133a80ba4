import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def make_problem(rng, n, n_in, n_out, task, dtype=np.float64):
    """Random inputs and targets: class indices for classification, 0/1 indicators for
    multilabel, counts for poisson, (n, n_out) floats for regression."""
    X = rng.normal(size=(n, n_in)).astype(dtype)
    if task == "classification":
        y = rng.integers(0, n_out, size=n)
    elif task == "multilabel":
        y = (rng.random((n, n_out)) < 0.4).astype(dtype)
    elif task == "poisson":
        y = rng.poisson(2.0, size=(n, n_out)).astype(dtype)
    else:
        y = rng.normal(size=(n, n_out)).astype(dtype)
    return X, y


def sweep_app():
    """A typer app with only `sweep` mounted, as fastmlp.cli mounts it."""
    import typer

    from fastmlp.sweep.cli import sweep

    application = typer.Typer()

    @application.callback()
    def main():
        pass

    application.command("sweep")(sweep)
    return application


def write_mnist_files(folder, n_train, n_test):
    """The four MNIST-style IDX gz files, random 28x28 images and labels 0..9, in folder."""
    from fastmlp.data.idx import write_idx

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        write_idx(
            folder / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        )
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", (np.arange(n) % 10).astype(np.uint8))

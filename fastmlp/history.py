"""What a fit records: one row per epoch (or L-BFGS iteration), and the callback protocol."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class History:
    """One row per epoch: epoch, lr, train_loss, train_accuracy, val_loss, val_accuracy, seconds.
    train_loss/train_accuracy are running figures over the epoch's minibatches (the weights move
    while they are measured), as PyTorch and Keras report them; train_loss is the data loss only."""

    rows: list = field(default_factory=list)
    best_epoch: int | None = None
    kept_epoch: int | None = None  # whose weights the model ends with (see trainer.fit's keep)
    stopped_early: bool = False
    notes: dict = field(default_factory=dict)  # optimizer-specific facts (L-BFGS: converged, message)

    def column(self, name):
        return [row[name] for row in self.rows]


def notify(callback, name, *args):
    """Call callback.name(*args) when the callback has that method."""
    method = getattr(callback, name, None)
    return method(*args) if method is not None else None

"""Synthetic datasets, seeded and sized by parameters: spirals, blobs, regression.

Each returns (X, y) in float64 (the loader makes the one float copy in the
requested dtype) and integer labels or a target column.
"""

from __future__ import annotations

import numpy as np


def spirals(n_samples: int, n_classes: int = 3, noise: float = 0.1, seed: int = 0):
    """K interleaved spiral arms in 2-D, one class per arm (the classic "not linearly separable" set).

    Arm k at parameter t in [0, 1]: radius t, angle 1.75 turns * t + 2 pi k / K,
    plus Gaussian noise of std `noise` on the angle (scaled by the turn) and radius.
    """
    rng = np.random.default_rng(seed)
    y = np.arange(n_samples) % n_classes
    t = rng.uniform(0.05, 1.0, n_samples)
    angle = 2 * np.pi * (1.75 * t + y / n_classes) + rng.normal(0.0, noise * 2 * np.pi / n_classes, n_samples)
    radius = t + rng.normal(0.0, noise * 0.1, n_samples)
    X = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    return X, y.astype(np.int64)


def blobs(n_samples: int, n_classes: int = 3, n_features: int = 2, noise: float = 0.1, seed: int = 0):
    """Gaussian clusters: centres uniform in [-1, 1]^d, points at std `noise` around their centre."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-1.0, 1.0, (n_classes, n_features))
    y = np.arange(n_samples) % n_classes
    X = centres[y] + rng.normal(0.0, noise, (n_samples, n_features))
    return X, y.astype(np.int64)


def regression(n_samples: int, n_features: int = 2, noise: float = 0.1, seed: int = 0):
    """y = sin(p(x)) + noise, p a fixed seeded quadratic: p(x) = a.x + x^T B x / d + c, x ~ U(-2, 2)^d."""
    rng = np.random.default_rng(seed)
    a = rng.normal(0.0, 1.0, n_features)
    B = rng.normal(0.0, 1.0, (n_features, n_features))
    c = rng.normal()
    X = rng.uniform(-2.0, 2.0, (n_samples, n_features))
    p = X @ a + np.einsum("ni,ij,nj->n", X, B, X) / n_features + c
    y = np.sin(p) + rng.normal(0.0, noise, n_samples)
    return X, y.reshape(-1, 1)

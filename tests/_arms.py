"""A design with three treatment levels and closed-form conditional RMST effects."""

from __future__ import annotations

import numpy as np


def exponential_arms(n: int, seed: int, horizon: float = 2.0):
    """Three arms, exponential event times with level-dependent rates, closed-form RMST truth.

    ``rate_k(x) = exp(a_k + b_k x_1)``; ``E[min(T, h) | x] = (1 - exp(-rate h)) / rate``;
    confounded assignment (multinomial logit in ``x_1``); censoring ``Exp(0.25)``,
    independent of everything (pseudo-observations are then unbiased within each arm).
    """
    rng = np.random.default_rng(seed)
    X = rng.uniform(size=(n, 3))
    logits = np.column_stack([np.zeros(n), 0.8 * X[:, 0] - 0.4, 0.4 - 0.8 * X[:, 0]])
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    w = (rng.uniform(size=(n, 1)) > probs.cumsum(axis=1)).sum(axis=1)
    a, b = np.array([0.0, -0.6, 0.4]), np.array([0.5, -0.5, -0.6])
    rate = np.exp(a + b * X[:, [0]])
    T = rng.exponential(1 / rate[np.arange(n), w])
    C = rng.exponential(4.0, size=n)
    mean = (1 - np.exp(-rate * horizon)) / rate
    return X, (np.minimum(T, C), T <= C), w, mean[:, 1:] - mean[:, [0]]

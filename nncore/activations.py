"""Activation functions and their derivatives, written in terms of the output.

The derivative is taken from the neuron's output ``y`` (as the 2015 original does
for the sigmoid: ``y * (1 - y)``), so back-propagation never needs the raw sums.
The sigmoid is evaluated as ``0.5 * tanh(0.5 * z) + 0.5``: mathematically equal to
``1 / (1 + exp(-z))`` but it cannot overflow.
"""

from __future__ import annotations

import numpy as np

ACTIVATIONS = ("sigmoid", "tanh", "relu")

# Range of each activation's output, used to check targets: (low, high, inclusive?)
OUTPUT_RANGE = {
    "sigmoid": (0.0, 1.0),
    "tanh": (-1.0, 1.0),
    "relu": (0.0, float("inf")),
}


def forward(name: str, z: np.ndarray) -> np.ndarray:
    """Apply activation ``name`` to the weighted sums ``z``."""
    if name == "sigmoid":
        return 0.5 * np.tanh(0.5 * z) + 0.5
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0.0)
    raise KeyError(name)


def derivative(name: str, y: np.ndarray) -> np.ndarray:
    """d(activation)/dz expressed through the output ``y``."""
    if name == "sigmoid":
        return y * (1.0 - y)
    if name == "tanh":
        return 1.0 - y * y
    if name == "relu":
        return (y > 0.0).astype(y.dtype)
    raise KeyError(name)


# Scalar source snippets for the generated online-training kernel (see kernel.py).
SCALAR_FORWARD = {
    "sigmoid": "0.5 * tanh(0.5 * ({z})) + 0.5",
    "tanh": "tanh({z})",
    "relu": "max({z}, 0.0)",
}
SCALAR_DERIVATIVE = {
    "sigmoid": "{y} * (1.0 - {y})",
    "tanh": "(1.0 - {y} * {y})",
    "relu": "(1.0 if {y} > 0.0 else 0.0)",
}

"""Activation functions and their derivatives, written in terms of the output.

The derivative is taken from the neuron's output ``y`` (as the 2015 original does
for the sigmoid: ``y * (1 - y)``), so back-propagation never needs the raw sums.
The sigmoid is evaluated as ``0.5 * tanh(0.5 * z) + 0.5``: mathematically equal to
``1 / (1 + exp(-z))`` but it cannot overflow.

``softmax`` is for the output layer only and always goes with the cross-entropy loss
``E = -sum(target * log(output))``; for that pair ``dE/dz = output - target``, so its
"derivative" here is 1 and the output delta is simply the error ``target - output``.
"""

from __future__ import annotations

import numpy as np

ACTIVATIONS = ("sigmoid", "tanh", "relu")
#: Activations an output layer may have (softmax only there, with cross-entropy).
OUTPUT_ACTIVATIONS = ("sigmoid", "tanh", "softmax")

# Range of each activation's output, used to check targets: (low, high, inclusive?)
OUTPUT_RANGE = {
    "sigmoid": (0.0, 1.0),
    "tanh": (-1.0, 1.0),
    "relu": (0.0, float("inf")),
    "softmax": (0.0, 1.0),
}


def forward(name: str, z: np.ndarray) -> np.ndarray:
    """Apply activation ``name`` to the weighted sums ``z``."""
    if name == "sigmoid":
        return 0.5 * np.tanh(0.5 * z) + 0.5
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "softmax":  # over the last axis (one example's outputs), shifted: cannot overflow
        e = np.exp(z - np.max(z, axis=-1, keepdims=True))
        return e / np.sum(e, axis=-1, keepdims=True)
    raise KeyError(name)


def derivative(name: str, y: np.ndarray) -> np.ndarray:
    """d(activation)/dz expressed through the output ``y``."""
    if name == "sigmoid":
        return y * (1.0 - y)
    if name == "tanh":
        return 1.0 - y * y
    if name == "relu":
        return (y > 0.0).astype(y.dtype)
    if name == "softmax":  # with cross-entropy the output delta is the error itself
        return np.ones_like(y)
    raise KeyError(name)


# Scalar source snippets for the generated online-training kernel (see kernel.py; no softmax).
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

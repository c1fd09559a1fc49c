"""Magnitude pruning as a plain Keras callback: the smallest weights of every kernel become zeros and stay zeros.

tensorflow-model-optimization does not support Keras 3, so this is its schedule rebuilt natively: sparsity
rises along a cubic curve (fast at first, then gently, as in Zhu & Gupta 2017) to its target by the end of the
first epoch, and the later epochs train the weights that are left. Every epoch therefore ends at the target
sparsity, so the best epoch that early stopping keeps is pruned too. Zeros are not smaller in `model.keras`
itself; they compress, so what pruning saves shows in the zipped size (`zipped_size`).
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

import keras
import numpy as np

# Masks are recomputed this many times while sparsity rises: sorting a 3-million-weight kernel on every batch
# would cost more than the batch.
_MASK_UPDATES = 10


def _prunable(model: keras.Model) -> list[Any]:
    """Kernels, embeddings and recurrent kernels: every trainable weight with two or more dimensions (biases
    and normalisation scales are few and each one matters)."""
    return [weight for weight in model.trainable_weights if len(weight.shape) >= 2]


def _mask(values: np.ndarray, sparsity: float) -> np.ndarray:
    """True for the weights kept: all but the `sparsity` fraction with the smallest magnitude."""
    pruned = int(round(sparsity * values.size))
    if pruned == 0:
        return np.ones(values.shape, dtype=bool)
    order = np.argpartition(np.abs(values).ravel(), pruned - 1)[:pruned]
    keep = np.ones(values.size, dtype=bool)
    keep[order] = False
    return keep.reshape(values.shape)


class MagnitudePruning(keras.callbacks.Callback):
    """Prunes a model to `target_sparsity` during its first epoch and keeps the pruned weights at zero after.

    Args:
        target_sparsity: fraction of each prunable weight set to zero, e.g. 0.8.
        batches_per_epoch: batches in one epoch, over which sparsity rises.
    """

    def __init__(self, target_sparsity: float, batches_per_epoch: int) -> None:
        super().__init__()
        self.target_sparsity = target_sparsity
        self.ramp_batches = max(1, batches_per_epoch)
        self.every = max(1, self.ramp_batches // _MASK_UPDATES)
        self.masks: list[np.ndarray] | None = None
        self.step = 0

    def sparsity_at(self, step: int) -> float:
        """The cubic schedule: 0 before the first batch, the target from the last batch of the first epoch on."""
        progress = min(1.0, step / self.ramp_batches)
        return self.target_sparsity * (1.0 - (1.0 - progress) ** 3)

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self.step += 1
        ramping = self.step <= self.ramp_batches
        if self.masks is None or (ramping and (self.step % self.every == 0 or self.step == self.ramp_batches)):
            self._update_masks(self.sparsity_at(self.step))
        self._apply()

    def finish(self) -> None:
        """Brings the weights (restored from the best epoch, perhaps) to the target sparsity exactly."""
        self._update_masks(self.target_sparsity)
        self._apply()

    def _update_masks(self, sparsity: float) -> None:
        self.masks = [keras.ops.convert_to_tensor(_mask(keras.ops.convert_to_numpy(weight), sparsity), weight.dtype)
                      for weight in _prunable(self.model)]

    def _apply(self) -> None:
        """Zeros the pruned weights again: the optimizer's last step moved them."""
        for weight, mask in zip(_prunable(self.model), self.masks or []):
            weight.assign(weight * mask)


def sparsity(model: keras.Model) -> float:
    """The fraction of prunable weights that are exactly zero."""
    weights = [keras.ops.convert_to_numpy(weight) for weight in _prunable(model)]
    total = sum(values.size for values in weights)
    return float(sum(int((values == 0).sum()) for values in weights) / total) if total else 0.0


def zipped_size(path: Any) -> int:
    """Bytes of a file once deflated in a zip archive: `model.keras` stores its weights uncompressed, so the
    zeros pruning makes show only here."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(path, arcname=str(path).rsplit("/", 1)[-1])
    return len(buffer.getvalue())

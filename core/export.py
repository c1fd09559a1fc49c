"""Saved models as TensorFlow SavedModels: serve them with TensorFlow Serving, or load them wherever TensorFlow
runs, without Keras or this project's code.

`model.keras` needs Keras and our registered text layers to load. A SavedModel carries the whole graph, text
standardisation and vocabulary included, with one endpoint: `serve(texts)` -> {"probabilities", "label"}.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import keras
import tensorflow as tf

from core.errors import RegistryError
from core.i18n import Message
from core.predict import Predictor

ENDPOINT = "serve"


def export_saved_model(predictor: Predictor, destination: str | Path) -> Path:
    """Writes the predictor's model as a SavedModel folder at `destination`.

    Raises:
        RegistryError: `destination` exists already, the SavedModel cannot be written there, or the model reads
            sentence-encoder vectors, which a SavedModel cannot make.
    """
    destination = Path(destination)
    if predictor.encoding is not None:
        raise RegistryError(Message("export_reads_encoder", format="SavedModel"))
    if destination.exists():
        raise RegistryError(f"{destination} exists already: choose a new folder for the SavedModel.")
    model, classes, threshold = predictor.model, tf.constant(list(predictor.classes)), predictor.threshold

    def serve(texts: tf.Tensor) -> dict[str, tf.Tensor]:
        probabilities = model(tf.reshape(texts, (-1, 1)), training=False)
        if threshold is None:
            chosen = tf.argmax(probabilities, axis=1)
        else:  # the model's saved decision threshold for classes[1], as core.evaluate.decide applies it
            chosen = tf.cast(probabilities[:, 1] >= threshold, tf.int64)
        return {"probabilities": probabilities, "label": tf.gather(classes, chosen)}

    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(name=ENDPOINT, fn=serve, input_signature=[tf.TensorSpec([None], tf.string, name="texts")])
    try:
        archive.write_out(str(destination), verbose=False)
    except Exception as error:  # TensorFlow raises many types for an unwritable folder; the user needs one
        raise RegistryError(f"The SavedModel could not be written to {destination}: {error}") from error
    return destination


def saved_model_zip(predictor: Predictor, folder_name: str) -> bytes:
    """The SavedModel zipped as one folder called `folder_name`, for downloading.

    Raises:
        RegistryError: the SavedModel cannot be written.
    """
    return zipped_folder(lambda folder: export_saved_model(predictor, folder), folder_name)


def zipped_folder(write: Callable[[Path], Path], folder_name: str) -> bytes:
    """What `write` puts in a new folder called `folder_name`, zipped with that folder at the top: every export
    format is downloaded this way."""
    with tempfile.TemporaryDirectory() as temp:
        folder = write(Path(temp) / folder_name)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(folder.parent))
        return buffer.getvalue()

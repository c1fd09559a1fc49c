"""The downloads of a saved model the Models page offers: a zipped TensorFlow SavedModel (core.export) and a
zipped TensorFlow Lite folder (core.litert).
"""

from __future__ import annotations

from core.active import ActiveModel
from core.export import saved_model_zip
from core.litert import tflite_zip
from core.shelf import ModelShelf


def saved_model_download(shelf: ModelShelf, name: str, active: ActiveModel | None = None) -> bytes:
    """The model `name` as a zipped SavedModel, for serving without this app; the `active` model is exported
    from memory, any other is loaded first.

    Raises:
        ModelNotFoundError: no model has that name.
        RegistryError: the model is broken or cannot be exported.
    """
    if active is not None and active.name == name:
        return saved_model_zip(active.predictor, name)
    return saved_model_zip(shelf.load_predictor(name, "exported"), name)


def tflite_download(shelf: ModelShelf, name: str, quantize: str = "none") -> bytes:
    """The saved model `name` as a zipped TensorFlow Lite folder, "int8" quantized or not; converted in a
    subprocess, so the converter's leaked memory does not stay with the app.

    Raises:
        ModelNotFoundError: no model has that name.
        RegistryError: the model is broken.
        ExportError: the model cannot be converted (the message says why and what to do instead).
    """
    return tflite_zip(shelf.usable(name, "exported").path, name, quantize)

"""TensorFlow Lite export: the numeric part of a saved model as `model.tflite`, plus what runs it without TensorFlow.

String ops are not TensorFlow Lite builtins, and the `ai-edge-litert` interpreter runs builtins only, so the
exported network starts after the text layers: padded token ids (lstm, gru, cnn) or TF-IDF rows (mlp) in,
probabilities out. The vocabulary, the IDF weights and the character rules of `core.text.standardize` go
into `preprocessing.json`, read by `litert_preprocess.py`, a numpy preprocessor copied into the folder.

Keras 3 runs LSTM and GRU layers as a while loop over TensorList ops, which need TensorFlow's Flex ops; the
export unrolls them over the model's fixed sequence length instead, which converts to builtins. Conversion
leaks memory in TF 2.21, so the app runs it in a subprocess (`export_in_subprocess`, `python -m core.litert`).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from core import litert_preprocess
from core.errors import ExportError, StudioError
from core.i18n import Message
from core.registry import read_model_folder

QUANTIZATIONS = ("none", "int8")
# Unrolled recurrent layers grow the graph with every step: 400 steps (the longest automatic sequence
# length) take about 2 minutes to convert on 2 cores; longer ones are refused rather than left running.
MAX_UNROLLED_STEPS = 400
EXPORT_TIMEOUT_SECONDS = 15 * 60
EXAMPLE_FILE = "example.py"
README_FILE = "README.md"
# Runs in a folder holding only the export and numpy + ai-edge-litert (tests/test_litert.py runs it so).
EXAMPLE = '''\
"""Predict with this exported model: pip install ai-edge-litert numpy; python example.py "some text" ..."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from litert_preprocess import LiteModel

model = LiteModel(Path(__file__).resolve().parent)
for text, (label, probabilities) in zip(sys.argv[1:], model.predict(sys.argv[1:])):
    print(label, round(probabilities[label], 3), text, sep="\\t")
'''


def write_export(model_dir: str | Path, destination: str | Path, quantize: str = "none") -> Path:
    """Writes the TensorFlow Lite export folder of the saved model at `model_dir` to a new `destination`.

    The folder appears whole or not at all: it is written beside `destination` and renamed at the end.

    Raises:
        ExportError: `destination` exists, the quantisation is unknown, or the model cannot be converted.
        RegistryError: the model cannot be loaded.
    """
    destination = Path(destination)
    _check_request(Path(model_dir), destination, quantize)
    from core.predict import Predictor

    predictor = Predictor.load(model_dir)
    numeric = numeric_model(predictor.model)
    temporary = Path(tempfile.mkdtemp(prefix=".tmp-export-", dir=destination.parent))
    try:
        (temporary / litert_preprocess.MODEL_FILE).write_bytes(convert(numeric, quantize))
        spec = {**preprocessing_spec(predictor.model, predictor.classes), "threshold": predictor.threshold}
        (temporary / litert_preprocess.PREPROCESSING_FILE).write_text(json.dumps(spec, ensure_ascii=False), "utf-8")
        shutil.copyfile(litert_preprocess.__file__, temporary / "litert_preprocess.py")
        (temporary / EXAMPLE_FILE).write_text(EXAMPLE, "utf-8")
        (temporary / README_FILE).write_text(_readme(Path(model_dir).name, spec, quantize), "utf-8")
        temporary.rename(destination)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    return destination


def _check_request(model_dir: Path, destination: Path, quantize: str) -> None:
    """Refuses what would fail only after minutes of conversion (or, for a model over encoder vectors, deep in
    Keras with a shape error)."""
    if model_dir.is_dir() and read_model_folder(model_dir).reads_encoder:
        raise ExportError(Message("export_reads_encoder", format="TensorFlow Lite"))
    if quantize not in QUANTIZATIONS:
        raise ExportError(f"Unknown quantization {quantize!r}; choose one of {', '.join(QUANTIZATIONS)}.")
    if destination.exists():
        raise ExportError(f"{destination} exists already: choose a new folder for the TensorFlow Lite export.")
    if not destination.parent.is_dir():
        raise ExportError(f"The folder {destination.parent} does not exist: create it first.")


def numeric_model(model: Any) -> Any:
    """The layers after the text layers as a model of their own, sharing the trained weights.

    Recurrent layers are replaced by unrolled copies with the same weights (see the module docstring).

    Raises:
        ExportError: a recurrent model reads more than MAX_UNROLLED_STEPS tokens, or the model is not one
            of this app's chains of layers.
    """
    import keras

    names = [layer.name for layer in model.layers]
    if "tf_idf" in names:
        start = names.index("tf_idf") + 1
        inputs = keras.Input(shape=(model.get_layer("tf_idf").vocabulary_size,), dtype="float32", name="features")
    elif "vectorizer" in names:
        start = names.index("vectorizer") + 1
        length = model.get_layer("vectorizer").get_config()["output_sequence_length"]
        inputs = keras.Input(shape=(length,), dtype="int32", name="token_ids")
    else:
        raise ExportError(f"The model {model.name!r} has no text vectorizer layer; only models trained by this "
                          "app can be exported to TensorFlow Lite.")
    hidden = inputs
    for layer in model.layers[start:]:
        replacement = _unrolled(layer, inputs.shape[1])
        hidden = replacement(hidden)
        if replacement is not layer:  # built by the call above, so it can take the trained weights now
            replacement.set_weights(layer.get_weights())
    return keras.Model(inputs, hidden, name=f"{model.name}_numeric")


def _unrolled(layer: Any, steps: int) -> Any:
    """An unbuilt, unrolled copy of an LSTM or GRU layer (bare or Bidirectional); other layers as they are."""
    from keras import layers

    recurrent = layer.forward_layer if isinstance(layer, layers.Bidirectional) else layer
    if not isinstance(recurrent, (layers.LSTM, layers.GRU)):
        return layer
    if steps > MAX_UNROLLED_STEPS:
        raise ExportError(
            f"This {type(recurrent).__name__} model reads {steps} tokens per text; TensorFlow Lite export unrolls "
            f"recurrent layers and allows at most {MAX_UNROLLED_STEPS}. Retrain it with a sequence length of "
            f"{MAX_UNROLLED_STEPS} or less, or export it as a SavedModel."
        )
    config = layer.get_config()
    inner = config["layer"]["config"] if isinstance(layer, layers.Bidirectional) else config
    inner["unroll"] = True
    if isinstance(layer, layers.Bidirectional) and config.get("backward_layer"):
        config["backward_layer"]["config"]["unroll"] = True
    return type(layer).from_config(config)


def convert(numeric: Any, quantize: str = "none") -> bytes:
    """The model as TensorFlow Lite builtins, through a SavedModel (`from_keras_model` breaks on Keras 3).

    int8 is dynamic-range quantisation: weights stored as 8-bit integers, activations computed in float.

    Raises:
        ExportError: the converter needs ops outside the builtins.
    """
    import tensorflow as tf

    with tempfile.TemporaryDirectory() as temp:
        numeric.export(temp, verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(temp)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        if quantize == "int8":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        try:
            return converter.convert()
        except Exception as error:  # the converter raises ConverterError or others, with pages of MLIR
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise ExportError(f"The model {numeric.name!r} cannot be converted to TensorFlow Lite builtins: "
                              f"{first_line}. Export it as a SavedModel instead.") from error


def preprocessing_spec(model: Any, classes: Any) -> dict[str, Any]:
    """What `litert_preprocess.Preprocessor` needs to turn texts into this model's input."""
    vectorizer = model.get_layer("vectorizer")
    settings = vectorizer.get_config()
    spec: dict[str, Any] = {
        "classes": list(classes),
        "vocabulary": [str(token) for token in vectorizer.get_vocabulary()],
        "characters": character_ranges(),
        "max_text_characters": litert_preprocess.MAX_TEXT_CHARACTERS,
    }
    if settings["output_mode"] == "int":
        return {**spec, "input": "token_ids", "sequence_length": settings["output_sequence_length"]}
    tf_idf = model.get_layer("tf_idf")
    idf = [float(weight) for weight in tf_idf.idf.numpy()]
    return {**spec, "input": "tf_idf", "ngrams": settings["ngrams"] or 1, "normalize": bool(tf_idf.normalize),
            "idf": idf}


def character_ranges() -> dict[str, list[list[int]]]:
    """The code point ranges that `standardize` isolates or drops, read off TensorFlow's own regex engine.

    Python's `unicodedata` has no script property (\\p{Han}) and may follow another Unicode version than
    TensorFlow's RE2, so the rules are tabulated by running RE2 itself over every code point.
    """
    import numpy as np
    import tensorflow as tf

    from core.text import DROPPED_CHARACTER, ISOLATED_CHARACTER

    points = np.array([point for point in range(0x110000) if not 0xD800 <= point <= 0xDFFF], dtype=np.int32)
    characters = tf.strings.unicode_encode(tf.constant(points)[:, None], "UTF-8")
    ranges = {}
    for kind, pattern in (("isolated", ISOLATED_CHARACTER), ("dropped", DROPPED_CHARACTER)):
        matches = tf.strings.regex_full_match(characters, pattern).numpy()
        ranges[kind] = _runs(points[matches])
    return ranges


def _runs(points: Any) -> list[list[int]]:
    """Sorted code points as [first, last] runs of consecutive values."""
    import numpy as np

    if not len(points):
        return []
    breaks = np.flatnonzero(np.diff(points) != 1)
    starts = np.r_[points[0], points[breaks + 1]]
    ends = np.r_[points[breaks], points[-1]]
    return [[int(start), int(end)] for start, end in zip(starts, ends)]


def _readme(name: str, spec: dict[str, Any], quantize: str) -> str:
    shape = ("(texts, vocabulary size) float32 TF-IDF rows" if spec["input"] == "tf_idf"
             else f"(texts, {spec['sequence_length']}) int32 token ids")
    return f"""# {name} as TensorFlow Lite

Exported by Sentiment Studio{' with int8 weights (dynamic-range quantization)' if quantize == 'int8' else ''}.
Classes: {', '.join(spec['classes'])}.{_threshold_line(spec)}

- `model.tflite`: the network after its text layers; input {shape}, output class probabilities.
- `preprocessing.json`: vocabulary, IDF weights and the character rules of the app's text standardization.
- `litert_preprocess.py`: turns texts into the model's input with numpy, exactly as the app does, and runs
  the interpreter (`LiteModel`). It needs only numpy and `ai-edge-litert` (or TensorFlow's `tf.lite`).
- `example.py`: `pip install ai-edge-litert numpy`, then `python example.py "a text" "another text"`.

In your own code:

```python
from litert_preprocess import LiteModel
model = LiteModel("{name}")
label, probabilities = model.predict(["a text"])[0]
```
"""


def _threshold_line(spec: dict[str, Any]) -> str:
    threshold = spec.get("threshold")
    if threshold is None:
        return ""
    return (f" `{spec['classes'][1]}` is predicted when its probability reaches the model's decision threshold "
            f"{threshold:g} (saved on the Evaluate page); `LiteModel.predict` applies it.")


def export_in_subprocess(model_dir: str | Path, destination: str | Path, quantize: str = "none",
                         timeout: float = EXPORT_TIMEOUT_SECONDS) -> Path:
    """`write_export` in a fresh Python process, so the converter's leaked memory goes back when it ends.

    Raises:
        ExportError: the export failed (the child's one-line reason) or ran past `timeout` seconds.
    """
    _check_request(Path(model_dir), Path(destination), quantize)  # before paying for a process and TensorFlow's import
    command = [sys.executable, "-m", "core.litert", str(model_dir), str(destination), "--quantize", quantize]
    root = Path(__file__).resolve().parent.parent
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(root)}
    try:
        finished = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=root, env=environment)
    except subprocess.TimeoutExpired:
        raise ExportError(f"The TensorFlow Lite export took more than {timeout:.0f} seconds and was stopped.") from None
    if finished.returncode != 0:
        lines = [line for line in finished.stderr.splitlines() if line.startswith("error: ")]
        reason = lines[-1][len("error: "):] if lines else finished.stderr.strip()[-500:]
        raise ExportError(f"The TensorFlow Lite export failed: {reason}")
    return Path(destination)


def tflite_zip(model_dir: str | Path, folder_name: str, quantize: str = "none") -> bytes:
    """The export folder zipped as one folder called `folder_name`, for downloading (built in a subprocess).

    Raises:
        ExportError: the export failed.
    """
    from core.export import zipped_folder

    return zipped_folder(lambda folder: export_in_subprocess(model_dir, folder, quantize), folder_name)


def main(argv: list[str] | None = None) -> int:
    """`python -m core.litert MODEL_DIR DESTINATION [--quantize int8]`: what `export_in_subprocess` runs."""
    parser = argparse.ArgumentParser(prog="python -m core.litert")
    parser.add_argument("model_dir")
    parser.add_argument("destination")
    parser.add_argument("--quantize", default="none", help=f"one of {', '.join(QUANTIZATIONS)}")
    args = parser.parse_args(argv)
    try:
        write_export(args.model_dir, args.destination, args.quantize)
    except StudioError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

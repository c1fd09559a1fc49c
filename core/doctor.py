"""What this machine gives training: library versions, CUDA, GPUs, precision and the model folder.

`python -m core doctor [--json]` prints it and the Home page shows it in one line, so a person can see at
a glance why training is slow (no GPU, a CPU-only TensorFlow build) or cannot save (a read-only folder).
"""

from __future__ import annotations

import dataclasses
import platform
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.experiment import models_dir
from core.safety import without_server_paths

# The app's own folder: a models folder inside it is shown relative to it.
APP_FOLDER = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Gpu:
    """One GPU TensorFlow sees."""

    name: str  # TensorFlow's device name, e.g. "/physical_device:GPU:0"
    model: str  # what the driver calls it, e.g. "NVIDIA H100 80GB HBM3"; "" when TensorFlow does not say
    memory_growth: bool  # on: TensorFlow takes memory as it needs it, so several jobs can share the GPU


@dataclass(frozen=True)
class Diagnosis:
    python: str
    tensorflow: str
    keras: str
    built_with_cuda: bool
    cuda_version: str  # the CUDA and cuDNN versions TensorFlow was built against ("" without CUDA)
    cudnn_version: str
    gpus: tuple[Gpu, ...]
    precision_policy: str  # Keras' global dtype policy: "float32", or "mixed_float16" when switched on
    models_dir: str
    models_dir_writable: bool

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    def lines(self) -> list[str]:
        """The facts as `name: value` lines, for the terminal."""
        cuda = f"yes (CUDA {self.cuda_version}, cuDNN {self.cudnn_version})" if self.built_with_cuda else "no"
        gpus = [f"  {gpu.name} {gpu.model} - memory growth {'on' if gpu.memory_growth else 'off'}".rstrip()
                for gpu in self.gpus]
        return [
            f"python: {self.python}",
            f"tensorflow: {self.tensorflow}",
            f"keras: {self.keras}",
            f"built with CUDA: {cuda}",
            f"visible GPUs: {len(self.gpus)}",
            *gpus,
            f"precision policy: {self.precision_policy}",
            f"models folder: {self.models_dir} ({'writable' if self.models_dir_writable else 'NOT writable'})",
        ]


def diagnose(folder: Path | None = None) -> Diagnosis:
    """Looks at this process's TensorFlow, GPUs and the model folder (`folder`, else where models are saved).

    The GPUs are set up as training sets them up (memory growth on), so what is printed is what a job gets.
    """
    import keras
    import tensorflow as tf

    from core.training import device_description

    device_description()  # sets memory growth on every visible GPU, as before any training
    build = tf.sysconfig.get_build_info()
    folder = folder or models_dir()
    return Diagnosis(
        python=platform.python_version(),
        tensorflow=tf.__version__,
        keras=keras.__version__,
        built_with_cuda=tf.test.is_built_with_cuda(),
        cuda_version=str(build.get("cuda_version", "")),
        cudnn_version=str(build.get("cudnn_version", "")),
        gpus=tuple(_gpu(tf, device) for device in tf.config.list_physical_devices("GPU")),
        precision_policy=keras.mixed_precision.global_policy().name,
        models_dir=str(folder),
        models_dir_writable=writable(folder),
    )


def _gpu(tf: Any, device: Any) -> Gpu:
    details = tf.config.experimental.get_device_details(device)
    return Gpu(name=device.name, model=details.get("device_name", ""),
               memory_growth=bool(tf.config.experimental.get_memory_growth(device)))


def writable(folder: Path) -> bool:
    """Whether models can be saved under `folder`: a file can be made in it, or in the nearest folder above it
    that exists (saving creates the rest). Trying is the only honest test: permission bits say yes to root
    even on a read-only mount."""
    existing = Path(folder).absolute()
    while not existing.is_dir() and existing != existing.parent:
        existing = existing.parent
    try:
        with tempfile.TemporaryFile(dir=existing):
            return True
    except OSError:
        return False


def short_folder(folder: str | Path) -> str:
    """`folder` as a page may show it: relative to the app's folder when inside it ("models"), else its last part
    (".../models"). Where the app lives on the server tells a visitor nothing and an attacker something; the
    terminal's `doctor` prints the full path for the person who runs the server."""
    path = Path(folder).absolute()
    if path.is_relative_to(APP_FOLDER):
        return path.relative_to(APP_FOLDER).as_posix()
    return without_server_paths(path.as_posix())

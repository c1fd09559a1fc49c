"""GPU against CPU: seconds per epoch of `default` and `article-lstm` on each and their ratio, and whether
`article-lstm` runs on cuDNN's fused LSTM kernel.

Each device trains in its own process, so neither inherits the other's TensorFlow state: the CPU run hides
the GPUs (CUDA_VISIBLE_DEVICES=-1) before TensorFlow starts, which is the only way TensorFlow fully forgets
them. Without a visible GPU the CPU run is all there is, and the script says so.

cuDNN is checked twice: the settings of every LSTM layer of the model actually built (tanh and sigmoid, no
recurrent dropout, no unroll, a bias, `use_cudnn` not off) and, where a GPU is visible, the training graph,
which must contain cuDNN's `CudnnRNN*` op. cuDNN also refuses a batch holding a text with no tokens at all (a
fully masked row), so the rows the vectorizer leaves empty are counted too.

    .venv/bin/python bench/gpu.py              # MR, all 8,636 rows, 3 epochs each
    .venv/bin/python bench/gpu.py --quick      # 600 rows, 1 epoch (`make bench`, tests/test_bench_gpu.py)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as `python bench/gpu.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import (  # noqa: E402
    DATASETS_DIR,
    base_parser,
    command_line,
    load_corpus,
    median,
    ratio,
    report,
    split_for_training,
    train_ours,
)

PRESETS = ("default", "article-lstm")
RESULT_PREFIX = "RESULT "  # marks the worker's one line of JSON among TensorFlow's own output
DEVICES = ("gpu", "cpu")


def main() -> None:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=None, help="training rows (default all of MR; quick 600)")
    parser.add_argument("--epochs", type=int, default=None, help="epochs per preset, no early stopping (default 3; quick 1)")
    parser.add_argument("--synthetic", action="store_true",
                        help="generated texts instead of MR (CI, or where ../shared/datasets is absent)")
    parser.add_argument("--worker", choices=DEVICES, help=argparse.SUPPRESS)  # the per-device process
    arguments = parser.parse_args()
    synthetic = arguments.synthetic or not (DATASETS_DIR / "mr" / "train.csv").is_file()
    settings = {"rows": arguments.rows or (600 if arguments.quick else None),
                "epochs": arguments.epochs or (1 if arguments.quick else 3), "synthetic": synthetic}
    if arguments.worker:
        print(RESULT_PREFIX + json.dumps(measure_here(arguments.worker, **settings)), flush=True)
        return
    import tensorflow as tf

    devices = ("gpu", "cpu") if tf.config.list_physical_devices("GPU") else ("cpu",)
    if devices == ("cpu",):
        print("No GPU visible to TensorFlow (a CPU-only build, or no device): CPU figures only.\n")
    runs = {device: run_worker(device, **settings) for device in devices}
    report("GPU against CPU", command_line(), tables(runs), arguments.json)


def run_worker(device: str, rows: int | None, epochs: int, synthetic: bool) -> dict[str, Any]:
    """One device's measurements from a fresh process; the CPU one sees no GPU.

    Raises:
        RuntimeError: the worker failed, with the end of its output.
    """
    environment = dict(os.environ)
    if device == "cpu":
        environment["CUDA_VISIBLE_DEVICES"] = "-1"
    command = [sys.executable, __file__, "--worker", device, "--epochs", str(epochs)]
    command += (["--rows", str(rows)] if rows else []) + (["--synthetic"] if synthetic else [])
    finished = subprocess.run(command, env=environment, capture_output=True, text=True)
    results = [line[len(RESULT_PREFIX):] for line in finished.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if finished.returncode or not results:
        raise RuntimeError(f"The {device} run failed ({finished.returncode}):\n{finished.stderr[-3000:]}")
    return json.loads(results[-1])


def measure_here(device: str, rows: int | None, epochs: int, synthetic: bool) -> dict[str, Any]:
    """This process's device and each preset's epoch times on it.

    Raises:
        RuntimeError: the GPU run found no GPU (the parent starts it only when it saw one).
    """
    import tensorflow as tf

    from core.config import preset
    from core.training import device_description

    gpus = tf.config.list_physical_devices("GPU")
    if device == "gpu" and not gpus:
        raise RuntimeError("The GPU run sees no GPU.")
    train = _training_rows(rows, synthetic)
    result: dict[str, Any] = {"device": device_description(), "data": "synthetic" if synthetic else "mr", "presets": {}}
    for name in PRESETS:
        config = preset(name).replace(epochs=epochs, early_stopping=False)
        split = split_for_training(train, config)
        result["presets"][name] = {"rows": len(split.train), **_epoch_seconds(config, split)}
        if config.family == "lstm":
            result["presets"][name]["cudnn"] = cudnn_check(config, split.train, bool(gpus))
    return result


def _training_rows(rows: int | None, synthetic: bool) -> Any:
    """MR's training file (its first `rows`), or generated texts when asked or when MR is absent."""
    if synthetic:
        from bench.soak import synthetic_dataset

        return synthetic_dataset(rows or 2_000)
    return load_corpus("mr", train_rows=rows).train


def _epoch_seconds(config: Any, split: Any) -> dict[str, Any]:
    seconds = [entry["seconds"] for entry in train_ours(config, split).snapshot().epoch_history]
    # The first epoch also traces the graph; later epochs are the steady cost when there are any.
    steady = seconds[1:] or seconds
    return {"first epoch s": seconds[0], "epoch s": median(steady), "epochs": len(seconds)}


def cudnn_check(config: Any, train: Any, gpu_visible: bool) -> dict[str, Any]:
    """Why the LSTM layers of the model built from `config` would not use cuDNN (none: they qualify), the rows
    cuDNN would refuse, and, with a GPU, whether the traced training step really calls the fused kernel."""
    import numpy as np

    from core.model import build_model

    model = build_model(config, train.texts, train.classes)
    lstm_layers = [unwrapped(layer) for layer in model.layers if unwrapped(layer).__class__.__name__ == "LSTM"]
    blockers = [reason for layer in lstm_layers for reason in cudnn_blockers(layer)]
    token_ids = np.asarray(model.get_layer("vectorizer")(np.asarray(train.texts, dtype=object)[:, None]))
    return {
        "lstm layers": len(lstm_layers),
        "qualifies": bool(lstm_layers) and not blockers,
        "blockers": blockers,
        "rows with no tokens": int((token_ids == 0).all(axis=1).sum()),
        "fused kernel in graph": _calls_fused_kernel(model, train.texts[:8]) if gpu_visible else None,
    }


def unwrapped(layer: Any) -> Any:
    return getattr(layer, "forward_layer", layer)  # a Bidirectional wrapper holds the LSTM as forward_layer


def cudnn_blockers(layer: Any) -> list[str]:
    """What in one LSTM layer sends Keras to its generic loop instead of cuDNN (the rules of Keras' own
    `cudnn_ok` and `LSTM.inner_loop`)."""
    import keras

    checks = {
        f"activation is {layer.activation.__name__}, not tanh": layer.activation is keras.activations.tanh,
        f"recurrent_activation is {layer.recurrent_activation.__name__}, not sigmoid":
            layer.recurrent_activation is keras.activations.sigmoid,
        f"recurrent_dropout is {layer.recurrent_dropout}": not layer.recurrent_dropout,
        "unroll is on": not layer.unroll,
        "no bias": layer.use_bias,
        "use_cudnn is False": layer.use_cudnn in ("auto", True),
    }
    return [f"{layer.name}: {reason}" for reason, passes in checks.items() if not passes]


def _calls_fused_kernel(model: Any, texts: Any) -> bool:
    """Whether a training-mode call of `model`, traced as a graph, contains a CudnnRNN op (in any function)."""
    import tensorflow as tf

    step = tf.function(lambda batch: model(batch, training=True))
    graph = step.get_concrete_function(tf.constant(list(texts))[:, None]).graph.as_graph_def()
    nodes = [*graph.node, *(node for function in graph.library.function for node in function.node_def)]
    return any(node.op.startswith("CudnnRNN") for node in nodes)


def tables(runs: dict[str, dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Per-preset epoch times on each device with the CPU/GPU ratio, and the cuDNN check of each run."""
    gpu, cpu = runs.get("gpu", {}).get("presets", {}), runs["cpu"]["presets"]
    timing = []
    for name, on_cpu in cpu.items():
        on_gpu = gpu.get(name)
        timing.append({
            "preset": name, "data": runs["cpu"]["data"], "rows": on_cpu["rows"], "epochs": on_cpu["epochs"],
            "CPU first epoch s": on_cpu["first epoch s"], "CPU epoch s": on_cpu["epoch s"],
            "GPU first epoch s": on_gpu["first epoch s"] if on_gpu else "no GPU",
            "GPU epoch s": on_gpu["epoch s"] if on_gpu else "no GPU",
            "CPU ÷ GPU": ratio(on_cpu["epoch s"], on_gpu["epoch s"]) if on_gpu else "-",
        })
    checks = [{"run": f"{device} ({run['device']})", **_flat(run["presets"][name]["cudnn"])}
              for device, run in runs.items() for name in run["presets"] if "cudnn" in run["presets"][name]]
    return {"seconds per epoch": timing, "article-lstm and cuDNN": checks}


def _flat(check: dict[str, Any]) -> dict[str, Any]:
    shown = {**check, "blockers": "; ".join(check["blockers"]) or "none"}
    if shown["fused kernel in graph"] is None:
        shown["fused kernel in graph"] = "n/a (no GPU)"
    return shown


if __name__ == "__main__":
    main()

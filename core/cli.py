"""Command-line interface: train, predict, evaluate and list models without the browser, and check the setup.

Progress goes to stderr; with --json the last line of stdout is one JSON object. Bad input ends with exit
code 2 and one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# TensorFlow's C++ start-up chatter would bury the progress lines on stderr.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from core.cluster import DEFAULT_WORKER_TIMEOUT, EXIT_WORKER_LOST, TF_CONFIG_VARIABLE, Cluster  # noqa: E402
from core.config import SETTINGS, Setting, TrainConfig, preset  # noqa: E402
from core.errors import StudioError, WorkerLostError  # noqa: E402
from core.i18n import fill, t  # noqa: E402
from core.suspects import DEFAULT_FOLDS, MAX_FOLDS, MIN_FOLDS  # noqa: E402

EXIT_BAD_INPUT = 2
# The preset `train` and `suspects` start from when --preset is not given.
DEFAULT_PRESET = "default"
# Older spellings of setting flags, still accepted.
FLAG_ALIASES = {"layer_sizes": ("--layers",)}
# What each kind of setting flag takes, as shown in --help.
METAVARS = {"int": "N", "float": "NUMBER", "sizes": "SIZES"}
EXPORT_FORMATS = ("savedmodel", "tflite")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        result = args.command(args)
    except WorkerLostError as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        # TensorFlow's shutdown waits for the lost worker, for minutes: end the process here instead.
        os._exit(EXIT_WORKER_LOST)
    except StudioError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core", description="Sentiment Studio from the command line.")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    for command in (_add_train(commands), *_add_model_commands(commands), _add_suspects(commands)):
        command.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    return parser


def _add_train(commands: Any) -> argparse.ArgumentParser:
    """`train`: the data, the preset, one flag per setting, and where the model is saved."""
    train = commands.add_parser("train", help="train a model on a labeled CSV and save it")
    train.add_argument("data", help="labeled CSV (text and label columns)")
    train.add_argument("--test-file", help="separate labeled CSV to evaluate on (else --test-split of the data)")
    train.add_argument("--text-column")
    train.add_argument("--label-column")
    _add_setting_flags(train)
    train.add_argument("--name", help="name to save the model under")
    train.add_argument("--models-dir", type=Path, help="folder of saved models (default: models/)")
    _add_cluster_flags(train)
    train.set_defaults(command=_train)
    return train


def _add_suspects(commands: Any) -> argparse.ArgumentParser:
    """`suspects`: the data, the number of folds and the seed that decides them."""
    suspects = commands.add_parser("suspects", help="find rows whose label looks wrong (k-fold, confident learning)")
    suspects.add_argument("data", help="labeled CSV (text and label columns)")
    suspects.add_argument("--folds", type=int, default=DEFAULT_FOLDS,
                          help=f"models trained, each without one part of the data ({MIN_FOLDS} to {MAX_FOLDS})")
    suspects.add_argument("--text-column")
    suspects.add_argument("--label-column")
    _add_setting_flag(suspects, "seed")  # decides the folds and each fold's training
    suspects.set_defaults(command=_suspects)
    return suspects


def _add_model_commands(commands: Any) -> tuple[argparse.ArgumentParser, ...]:
    """The commands that use saved models or the setup: predict, evaluate, list, export and doctor."""
    predict = commands.add_parser("predict", help="predict the sentiment of texts with a saved model")
    predict.add_argument("model_dir", type=Path, help="a saved model's folder, or a TensorFlow Lite export folder")
    predict.add_argument("texts", nargs="+", metavar="TEXT")
    predict.set_defaults(command=_predict)

    evaluate = commands.add_parser("evaluate", help="score a saved model on a labeled CSV")
    evaluate.add_argument("model_dir", type=Path, help="a saved model's folder, or a TensorFlow Lite export folder")
    evaluate.add_argument("test_file")
    evaluate.set_defaults(command=_evaluate)

    listing = commands.add_parser("list", help="list saved models")
    listing.add_argument("--models-dir", type=Path)
    listing.set_defaults(command=_list)

    export = commands.add_parser("export", help="write a saved model as a TensorFlow SavedModel or a TensorFlow Lite "
                                                "folder (folder or .zip)")
    export.add_argument("model_dir", type=Path)
    export.add_argument("destination", type=Path, help="a new folder, or a file name ending in .zip")
    export.add_argument("--format", choices=EXPORT_FORMATS, default="savedmodel",
                        help="savedmodel: texts in, for TensorFlow; tflite: model.tflite with a numpy preprocessor, "
                             "for ai-edge-litert without TensorFlow")
    export.add_argument("--quantize", choices=("none", "int8"), default="none",
                        help="tflite only: int8 stores the weights as 8-bit integers, about 4 times smaller")
    export.set_defaults(command=_export)

    doctor = commands.add_parser("doctor", help="show the Python, TensorFlow, GPU and model-folder setup training gets")
    doctor.add_argument("--models-dir", type=Path)
    doctor.set_defaults(command=_doctor)
    return predict, evaluate, listing, export, doctor


def _add_setting_flags(train: argparse.ArgumentParser) -> None:
    """One flag per TrainConfig setting, from its description: --preset, --dropout, --early-stopping..."""
    group = train.add_argument_group(
        "settings", f"--preset picks the settings to start from ({DEFAULT_PRESET} when not given; custom: each "
                    "setting's own default); each other flag given overrides the preset's value.")
    for name in sorted(SETTINGS, key=lambda name: name != "preset"):  # --preset first, the rest in field order
        _add_setting_flag(group, name)


def _add_setting_flag(parser: Any, name: str) -> None:
    """Setting `name`'s flag (a parser or an argument group's), from its description in core/config.py.

    Values stay text until `_config_from_args` reads them with the config's own parser, so a bad value ends
    as one ConfigError line rather than argparse's usage text. The default is None: a flag not given keeps the
    preset's value.
    """
    setting = SETTINGS[name]
    flags = [f"--{name.replace('_', '-')}", *FLAG_ALIASES.get(name, ())]
    if setting.kind == "bool":
        parser.add_argument(*flags, dest=name, action=argparse.BooleanOptionalAction, help=_flag_help(setting))
    else:
        parser.add_argument(*flags, dest=name, metavar=_metavar(setting), help=_flag_help(setting))


def _add_cluster_flags(train: argparse.ArgumentParser) -> None:
    """--distributed, or --workers and --worker-index, make this process one worker of a training cluster."""
    group = train.add_argument_group(
        "several machines", "Start the same command on every machine; worker 0 (or TF_CONFIG's chief) saves the "
                            "model, the others only train.")
    group.add_argument("--distributed", action="store_true",
                       help=f"join the cluster the {TF_CONFIG_VARIABLE} variable describes (MultiWorkerMirroredStrategy)")
    group.add_argument("--workers", metavar="HOST:PORT,…",
                       help="every worker's address, the same list on every machine; builds TF_CONFIG for you")
    group.add_argument("--worker-index", metavar="N", help="this machine's place in --workers, from 0")
    group.add_argument("--worker-timeout", metavar="SECONDS",
                       help="how long a worker, once training, waits for the others before it stops "
                            f"with an error (default {DEFAULT_WORKER_TIMEOUT:g})")


def _cluster_from_args(args: argparse.Namespace, config: TrainConfig) -> Cluster | None:
    """The cluster this process trains in, or None to train alone.

    Raises:
        ClusterError: conflicting or malformed cluster flags, a bad TF_CONFIG, or a config no cluster trains.
    """
    from core.cluster import check_distributable, cluster_from_environment, cluster_from_flags, parse_timeout
    from core.errors import ClusterError

    if args.workers is None and not args.distributed:
        if args.worker_index is not None or args.worker_timeout is not None:
            raise ClusterError("--worker-index and --worker-timeout only apply with --workers or --distributed.")
        return None
    if args.workers is not None and args.distributed:
        raise ClusterError(f"Give --workers or --distributed ({TF_CONFIG_VARIABLE}), not both.")
    if args.distributed and args.worker_index is not None:
        raise ClusterError(f"--worker-index goes with --workers; with --distributed, {TF_CONFIG_VARIABLE}'s task "
                           "index says which worker this is.")
    parse_timeout(args.worker_timeout)
    check_distributable(config)
    return cluster_from_flags(args.workers, args.worker_index) if args.workers is not None else cluster_from_environment()


def _flag_help(setting: Setting) -> str:
    """The Train page's English label and help, then what the flag allows (argparse expands %, hence %%)."""
    text = f"{t(setting.label).rstrip('.')}. {t(setting.help)}"
    if setting.kind != "bool":
        text += f" Allowed: {setting.allowed()}" + (f", or {setting.none}." if setting.none else ".")
    return text.replace("%", "%%")


def _metavar(setting: Setting) -> str:
    metavar = "{" + ",".join(map(str, setting.options)) + "}" if setting.kind == "choice" else METAVARS[setting.kind]
    return f"{metavar}|{setting.none}" if setting.none else metavar


def _config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The preset named by --preset (DEFAULT_PRESET without one), changed by every other setting flag that was
    given (a command may have only some of them, as `suspects` has --seed); all of it validated.

    Raises:
        ConfigError: an unknown preset, or a flag whose value is not allowed (the message names it).
    """
    values = {}
    for name, setting in SETTINGS.items():
        given = getattr(args, name, None)
        if given is not None:
            # Switches arrive as True/False from argparse; everything else as the text typed.
            values[name] = given if setting.kind == "bool" else setting.parse(name, given)
    return preset(values.pop("preset", DEFAULT_PRESET)).replace(**values)


def _import_tensorflow_quietly() -> None:
    """Import TensorFlow with file descriptor 2 muted: its C++ start-up lines bypass Python's logging.

    Keeps stderr to our progress lines and, on bad input, the one-line error.
    """
    if "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _train(args: argparse.Namespace) -> dict[str, Any]:
    from core.data import load_dataset, load_test_dataset
    from core.experiment import split_for_run

    from core.registry import sanitize_name

    # Everything a user can get wrong is checked before TensorFlow's slow import, and long before training.
    config = _config_from_args(args)
    cluster = _cluster_from_args(args, config)
    if args.name is not None:
        sanitize_name(args.name)
    columns = {"text_column": args.text_column, "label_column": args.label_column}
    dataset = load_dataset(args.data, **columns)
    _progress("loaded {rows} {rows|row|rows} from {data} ({encoding}); classes: {classes}", rows=len(dataset),
              data=args.data, encoding=dataset.report.encoding, classes=", ".join(dataset.classes))
    test = load_test_dataset(args.test_file, classes=dataset.classes, **columns) if args.test_file else None
    split = split_for_run(dataset, config, test)
    _import_tensorflow_quietly()
    distribution = _join(cluster, args.worker_timeout) if cluster else None
    from core.experiment import finish_run, models_dir, start_job
    from core.prune import zipped_size
    from core.registry import MODEL_FILE, ModelRegistry

    registry = ModelRegistry(args.models_dir or models_dir())
    job = start_job(config, split, distribution=distribution)
    _follow(job)
    if cluster and not cluster.is_chief:
        _progress(f"trained as {cluster.describe()}; the chief saves the model")
        return {"role": cluster.task_type, "task_index": cluster.task_index, "workers": cluster.workers,
                "saved": False, "epochs_run": job.epochs_run, "train_seconds": round(job.train_seconds, 3),
                "device": job.device}
    info, evaluation, _ = finish_run(job, split, registry, name=args.name)
    zipped = zipped_size(info.path / MODEL_FILE)
    _progress(f"saved {info.path} - test accuracy {evaluation.accuracy:.4f}, macro-F1 {evaluation.macro_f1:.4f}, "
              f"{info.metadata['sparsity']:.0%} of weights zero, {zipped / 1e6:.2f} MB zipped")
    return {
        "model_dir": str(info.path),
        "name": info.name,
        "test_accuracy": evaluation.accuracy,
        "macro_f1": evaluation.macro_f1,
        "epochs_run": job.epochs_run,
        "train_seconds": round(job.train_seconds, 3),
        "device": job.device,
        "rows": info.metadata["data"]["rows"],
        "sparsity": info.metadata["sparsity"],
        "zipped_model_bytes": zipped,
        "workers": cluster.workers if cluster else 1,
        "saved": True,
    }


def _join(cluster: Cluster, timeout_flag: str | None) -> Any:
    """Joins the cluster (before any other TensorFlow op, as MultiWorkerMirroredStrategy requires)."""
    from core.cluster import parse_timeout

    os.environ[TF_CONFIG_VARIABLE] = cluster.tf_config()
    timeout = parse_timeout(timeout_flag)
    _progress(f"joining the cluster as {cluster.describe()}; waiting up to {timeout:g} s for the other workers")
    from core.distributed import connect

    return connect(cluster, timeout)


def _follow(job: Any) -> None:
    """Print each epoch's log line to stderr as it lands; raise the job's error if it failed."""
    from core.errors import TrainingError
    from core.training import JobStatus

    printed, embedded = 0, -1
    while True:
        snapshot = job.snapshot()
        if snapshot.embedding and snapshot.embedded != embedded and snapshot.to_embed:
            embedded = snapshot.embedded
            _progress(f"embedding texts {embedded}/{snapshot.to_embed}")
        for line in snapshot.log_lines[printed:]:
            _progress(line)
        printed = len(snapshot.log_lines)
        if snapshot.done:
            break
        time.sleep(0.2)
    if snapshot.status == JobStatus.FAILED:
        if isinstance(job.failure, StudioError):  # typed, so main can tell a lost worker from bad input
            raise job.failure
        raise TrainingError(snapshot.error or "training failed")


def _predict(args: argparse.Namespace) -> dict[str, Any]:
    predictor = _load_scorer(args.model_dir)
    started = time.perf_counter()
    predictions = predictor.predict(args.texts)
    seconds = time.perf_counter() - started
    for text, prediction in zip(args.texts, predictions):
        print(f"{prediction.label}\t{prediction.probabilities[prediction.label]:.3f}\t{text}")
    return {
        "predictions": [
            {"text": text, "label": prediction.label, "probabilities": prediction.probabilities}
            for text, prediction in zip(args.texts, predictions)
        ],
        "predict_seconds": round(seconds, 6),
    }


def _evaluate(args: argparse.Namespace) -> dict[str, Any]:
    from core.data import load_test_dataset
    from core.evaluate import evaluate

    predictor = _load_scorer(args.model_dir)
    evaluation = evaluate(predictor, load_test_dataset(args.test_file, classes=predictor.classes))
    print(f"accuracy {evaluation.accuracy:.4f}  macro-F1 {evaluation.macro_f1:.4f}")
    for metrics in evaluation.per_class:
        print(f"  {metrics.label}: precision {metrics.precision:.3f} recall {metrics.recall:.3f} f1 {metrics.f1:.3f} ({metrics.support})")
    result = evaluation.to_dict()
    result["misclassified"] = result["misclassified"][:20]
    return result


def _load_scorer(folder: Path) -> Any:
    """A saved model's Predictor, or for a TensorFlow Lite export folder its LiteModel, which scores through the
    interpreter and the folder's own numpy preprocessor: the same held-out check runs on either form.

    Raises:
        ModelNotFoundError, RegistryError: the folder holds neither, or what it holds cannot be loaded.
    """
    from core import litert_preprocess

    if (folder / litert_preprocess.PREPROCESSING_FILE).is_file():
        return litert_preprocess.LiteModel(folder)
    _import_tensorflow_quietly()
    from core.predict import Predictor

    return Predictor.load(folder)


def _list(args: argparse.Namespace) -> dict[str, Any]:
    from core.experiment import models_dir
    from core.registry import ModelRegistry

    models = ModelRegistry(args.models_dir or models_dir()).list()
    rows = []
    for info in models:
        accuracy = (info.metadata.get("metrics") or {}).get("accuracy")
        rows.append({"name": info.name, "path": str(info.path), "preset": info.metadata.get("preset"),
                     "accuracy": accuracy, "created": info.metadata.get("created"), "broken": info.broken})
        status = f"BROKEN: {info.broken}" if info.broken else f"accuracy {accuracy:.4f}" if accuracy is not None else ""
        print(f"{info.name}\t{info.metadata.get('preset') or ''}\t{status}")
    return {"models": rows}


def _export(args: argparse.Namespace) -> dict[str, Any]:
    from core.errors import ExportError

    if args.destination.exists():
        raise ExportError(f"{args.destination} exists already: choose a new name for the export.")
    if args.quantize != "none" and args.format != "tflite":
        raise ExportError(f"--quantize {args.quantize} needs --format tflite: a SavedModel keeps float weights.")
    _import_tensorflow_quietly()
    from core.export import zipped_folder

    write, usage = _export_writer(args)
    if args.destination.suffix.lower() == ".zip":
        args.destination.write_bytes(zipped_folder(write, args.model_dir.name))
    else:
        write(args.destination)
    _progress(f"wrote {args.destination}: {usage}")
    return {"destination": str(args.destination), "format": args.format, "quantize": args.quantize}


def _export_writer(args: argparse.Namespace) -> tuple[Any, str]:
    """What writes the export folder asked for, and how to use it, in one line."""
    if args.format == "tflite":
        from core.litert import write_export

        return (lambda folder: write_export(args.model_dir, folder, args.quantize),
                "see its README.md; python example.py \"a text\" runs it with numpy and ai-edge-litert")
    from core.export import export_saved_model
    from core.predict import Predictor

    predictor = Predictor.load(args.model_dir)
    return (lambda folder: export_saved_model(predictor, folder),
            "load it with tf.saved_model.load and call .serve(texts)")


def _doctor(args: argparse.Namespace) -> dict[str, Any]:
    _import_tensorflow_quietly()
    from core.doctor import diagnose

    diagnosis = diagnose(args.models_dir)
    for line in diagnosis.lines():
        print(line)
    return diagnosis.as_dict()


def _suspects(args: argparse.Namespace) -> dict[str, Any]:
    """Lists the likely mislabelled rows, likeliest first: file row (0-based, header excluded), label, suggestion."""
    from core.data import load_dataset
    from core.suspects import fold_assignment

    config = _config_from_args(args)  # a bad --seed fails before the data are read
    dataset = load_dataset(args.data, text_column=args.text_column, label_column=args.label_column)
    fold_assignment(dataset, args.folds, config.seed)  # bad --folds fails before TensorFlow's slow import
    _progress("loaded {rows} {rows|row|rows} from {data}; training {folds} {folds|model|models}, each without one "
              "fold", rows=len(dataset), data=args.data, folds=args.folds)
    _import_tensorflow_quietly()
    from core.suspects import find_suspects

    suspects = find_suspects(dataset, args.folds, config,
                             on_fold=lambda done, folds: _progress(f"fold {done}/{folds} scored"))
    for suspect in suspects:
        print(f"{suspect.row}\t{suspect.label} -> {suspect.suggested}\t{suspect.confidence:.3f}\t{suspect.text}")
    _progress("{count} of {rows} {rows|row|rows} {count|looks|look} mislabelled", count=len(suspects),
              rows=len(dataset))
    return {"suspects": [suspect.to_dict() for suspect in suspects], "rows": len(dataset), "folds": args.folds}


def _progress(message: str, /, **values: Any) -> None:
    """Prints a progress line to stderr; with `values`, `message` is a template for core.i18n.fill, whose
    "{rows|row|rows}" forms make "1 row" and "2 rows"."""
    print(fill(message, **values) if values else message, file=sys.stderr, flush=True)

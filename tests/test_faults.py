"""Injected faults: training that diverges, runs out of memory or fails in its last step ends `failed` with a
readable message and leaves the app usable; a save killed halfway, damaged files and unsafe models never get loaded."""

from __future__ import annotations

import ast
import math
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import pytest
import tensorflow as tf

import core.training
from core.data import Dataset
from core.errors import RegistryError
from core.model import build_model
from core.predict import Predictor
from core.registry import METADATA_FILE, MODEL_FILE, ModelRegistry
from core.training import JobStatus, TrainingJob, _Recorder
from tests.support import REPO, assert_same_model, make_texts, tiny_config

FAST = tiny_config(vocab_size=300, early_stopping=False)


@pytest.fixture(scope="module")
def train() -> Dataset:
    texts, labels = make_texts(64)
    return Dataset(tuple(texts), tuple(labels))


def _failed_with(job: TrainingJob, *phrases: str) -> str:
    assert job.wait(timeout=120) == JobStatus.FAILED
    error = job.snapshot().error
    for phrase in phrases:
        assert phrase in error, error
    assert "Traceback" not in error and "\n" not in error
    return error


def _trains_fine_afterwards(train: Dataset) -> None:
    """The app stays usable: the next job in the same process trains, and no job is left holding a slot."""
    job = TrainingJob(FAST, train).start()
    assert job.wait(timeout=120) == JobStatus.FINISHED, job.snapshot().error
    assert Predictor(job.model, job.classes).predict(["great phone"])[0].label in job.classes


def test_nan_loss_fails_with_advice_and_the_next_job_trains(train: Dataset, monkeypatch) -> None:
    def poisoned_model(*args):
        model = build_model(*args)
        kernel = model.get_layer("probabilities").kernel
        kernel.assign(tf.fill(kernel.shape, math.nan))  # what an exploding gradient leaves behind
        return model

    monkeypatch.setattr(core.training, "build_model", poisoned_model)
    job = TrainingJob(FAST, train).start()
    _failed_with(job, "loss became nan", "in batch 1", "lower the learning rate")
    assert job.model is None
    monkeypatch.undo()
    _trains_fine_afterwards(train)


@pytest.mark.parametrize(
    "error",
    [tf.errors.ResourceExhaustedError(None, None, "OOM when allocating tensor with shape[4096,20000]"), MemoryError()],
    ids=["tensorflow-oom", "python-memory-error"],
)
def test_out_of_memory_inside_fit_says_so_and_the_next_job_trains(train: Dataset, monkeypatch, error) -> None:
    def exhausted(self, batch, logs=None):
        raise error

    monkeypatch.setattr(_Recorder, "on_train_batch_end", exhausted)
    message = _failed_with(TrainingJob(FAST, train).start(), "ran out of memory", "smaller batch size")
    assert "OOM when allocating" not in message  # the user gets advice, not TensorFlow's shape dump
    monkeypatch.undo()
    _trains_fine_afterwards(train)


def test_an_error_in_on_done_fails_the_job_and_the_next_job_trains(train: Dataset) -> None:
    def broken_save(job: TrainingJob) -> None:
        raise OSError("No space left on device")

    _failed_with(TrainingJob(FAST, train, on_done=broken_save).start(), "Training failed", "No space left on device")
    _trains_fine_afterwards(train)


def test_a_failed_job_frees_its_training_slot(train: Dataset, monkeypatch) -> None:
    monkeypatch.setattr(_Recorder, "on_train_batch_end", lambda self, batch, logs=None: 1 / 0)
    queue = core.training.JobQueue(slots=1)
    for _ in range(3):  # with a leaked slot the second job would wait forever
        _failed_with(TrainingJob(FAST, train, queue=queue).start(), "ZeroDivisionError")
    assert not queue._running and not queue._waiting


# --- the registry under crashes and damage ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_model() -> keras.Model:
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])


@pytest.fixture
def registry(tmp_path: Path, tiny_model) -> ModelRegistry:
    registry = ModelRegistry(tmp_path / "models")
    registry.save(tiny_model, {"classes": ["a", "b"]}, name="complete")
    return registry


_KILLED_SAVE = textwrap.dedent(
    """
    import sys, time
    import keras
    from core.registry import ModelRegistry

    def save_slowly(self, path, *args, **kwargs):
        with open(path, "wb") as file:
            file.write(b"PK\\x03\\x04" + b"half a model" * 1000)
            file.flush()
        print("half written", flush=True)
        time.sleep(120)

    keras.Model.save = save_slowly
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    ModelRegistry(sys.argv[1]).save(model, {"classes": ["a", "b"]}, name="victim")
    """
)


def test_a_save_killed_halfway_leaves_only_complete_models(registry: ModelRegistry, tiny_model) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", _KILLED_SAVE, str(registry.root)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""},
    )
    try:
        assert child.stdout.readline().strip() == "half written"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    leftovers = [path.name for path in registry.root.iterdir() if path.name.startswith(".tmp-")]
    assert len(leftovers) == 1
    assert [info.name for info in registry.list()] == ["complete"]
    assert registry.cleanup() == 0  # a fresh temp folder may belong to a save still running
    assert registry.cleanup(force=True) == 1
    assert sorted(path.name for path in registry.root.iterdir()) == ["complete"]
    assert_same_model(registry.load_model("complete"), tiny_model)


def _damage_metadata(folder: Path) -> None:
    (folder / METADATA_FILE).write_text('{"classes": ["a", "b"', encoding="utf-8")


def _truncate_model(folder: Path) -> None:
    model_file = folder / MODEL_FILE
    model_file.write_bytes(model_file.read_bytes()[: model_file.stat().st_size // 2])


def _null_config(folder: Path) -> None:
    (folder / METADATA_FILE).write_text('{"classes": ["a", "b"], "config": null}', encoding="utf-8")


def _text_row_counts(folder: Path) -> None:
    (folder / METADATA_FILE).write_text('{"classes": ["a", "b"], "data": {"rows": {"test": "many"}}}', encoding="utf-8")


@pytest.mark.parametrize(
    ("damage", "reason"),
    [(_damage_metadata, "metadata.json is not valid JSON"), (_truncate_model, "model.keras is damaged or incomplete"),
     (_null_config, "metadata.json has a 'config' that is NoneType, not an object"),
     (_text_row_counts, "metadata.json has row counts that are not whole numbers")],
    ids=["corrupt-metadata", "truncated-model", "null-config", "text-row-counts"],
)
def test_damaged_models_are_listed_as_broken_and_refuse_to_load(
    registry: ModelRegistry, tiny_model, damage, reason: str
) -> None:
    damage(registry.save(tiny_model, {"classes": ["a", "b"]}, name="damaged").path)
    infos = {info.name: info for info in registry.list()}
    assert infos["complete"].broken is None
    assert infos["damaged"].broken.startswith(reason)
    with pytest.raises(RegistryError, match=f"The model 'damaged' is broken: {reason}"):
        Predictor.load(registry.root / "damaged")
    if damage is _truncate_model:
        with pytest.raises(RegistryError, match="The model 'damaged' could not be loaded: .*Retrain it or delete it"):
            registry.load_model("damaged")


def test_safe_mode_never_runs_code_from_a_model_file(tmp_path: Path) -> None:
    marker = tmp_path / "code-ran"
    # The path is a constant inside the code object, as an attacker's payload would be.
    payload = eval(f"lambda x: (__import__('pathlib').Path({str(marker)!r}).touch(), x)[1]")  # noqa: S307
    touch = keras.layers.Lambda(payload, name="touch")
    model = keras.Sequential([keras.Input((3,)), touch, keras.layers.Dense(2, activation="softmax")])
    registry = ModelRegistry(tmp_path / "models")
    info = registry.save(model, {"classes": ["a", "b"]}, name="trojan")
    marker.unlink()  # building the model above ran the lambda once

    with pytest.raises(RegistryError, match="'trojan' could not be loaded") as caught:
        Predictor.load(info.path)
    assert "safe_mode" in str(caught.value) or "Lambda" in str(caught.value)
    assert not marker.exists()

    keras.saving.load_model(info.path / MODEL_FILE, safe_mode=False)  # control: without safe mode it does run
    assert marker.exists()


# --- static guarantees ---------------------------------------------------------------------------------------------

_UNSAFE_IMPORTS = {"pickle", "cPickle", "dill", "cloudpickle", "joblib", "shelve", "marshal"}
_UNSAFE_KEYWORDS = {("allow_pickle", True), ("safe_mode", False), ("unsafe_allow_html", True)}
_RAW_HTML_CALLS = {"html"}  # st.html and components.v1.html render markup as it is: only the app's own is allowed


def _product_files() -> list[Path]:
    folders = [REPO / "core", REPO / "pages"]
    return [REPO / "app.py", *(path for folder in folders for path in sorted(folder.rglob("*.py")))]


def _module_constants(tree: ast.Module) -> set[str]:
    """Names assigned once at module level to markup written in the source (a string, or an f-string of such
    names): the app's own CSS, which no user text can reach."""
    constants: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            if _fixed_markup(node.value, constants):
                constants.add(node.targets[0].id)
    return constants


def _fixed_markup(node: ast.expr, constants: set[str]) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.Name):
        return node.id in constants
    if isinstance(node, ast.JoinedStr):
        return all(isinstance(part, ast.Constant) or _fixed_markup(part.value, constants) for part in node.values)
    return False


def _unsafe_uses(path: Path, root: Path = REPO) -> list[str]:
    found = []
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    constants = _module_constants(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [f"import {alias.name}" for alias in node.names if alias.name.split(".")[0] in _UNSAFE_IMPORTS]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in _UNSAFE_IMPORTS:
            found.append(f"from {node.module} import")
        elif isinstance(node, ast.keyword) and isinstance(node.value, ast.Constant):
            if (node.arg, node.value.value) in _UNSAFE_KEYWORDS:
                found.append(f"{node.arg}={node.value.value}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _RAW_HTML_CALLS:
            if not all(_fixed_markup(argument, constants) for argument in node.args):
                found.append(f".{node.func.attr}(...)")
    return [f"{path.relative_to(root)}: {use}" for use in found]


def test_raw_html_is_allowed_only_for_markup_written_in_the_source(tmp_path: Path) -> None:
    source = tmp_path / "page.py"
    source.write_text('KEY = "nav"\nCSS = f"<style>.st-key-{KEY} {{}}</style>"\nst.html(CSS)\nst.html("<hr>")\n'
                      'st.html(f"<b>{text}</b>")\nst.html(text)\n', encoding="utf-8")
    assert _unsafe_uses(source, root=tmp_path) == ["page.py: .html(...)", "page.py: .html(...)"]


def test_no_product_code_unpickles_loads_unsafely_or_renders_raw_html() -> None:
    """Uploaded files and saved models are data: nothing may unpickle them, load them outside Keras safe mode,
    or hand user text to the browser as HTML."""
    offenders = [use for path in _product_files() if path.exists() for use in _unsafe_uses(path)]
    assert not offenders, offenders

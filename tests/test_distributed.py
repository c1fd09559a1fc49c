"""Distributed training: the cluster description, the choice of strategy, a mirrored run over two CPU devices,
and two real worker processes on 127.0.0.1 training MR (issue 13.2)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from core.cli import main
from core.cluster import (
    DEFAULT_WORKER_TIMEOUT,
    EXIT_WORKER_LOST,
    TF_CONFIG_VARIABLE,
    check_distributable,
    cluster_from_environment,
    cluster_from_flags,
    free_ports,
    parse_timeout,
)
from core.config import preset
from core.errors import ClusterError
from tests.support import REPO, csv_file, make_texts, shared_dataset

# Each worker process gets this long; a pair that hangs fails the test instead of the CI job.
WORKER_SECONDS = 180
# Rows of MR each run trains on (10% of them validate) and scores on.
TRAIN_ROWS, TEST_ROWS = 1200, 500


# --- the cluster --------------------------------------------------------------------------------------------
def test_workers_flags_build_a_tf_config_that_reads_back_the_same():
    cluster = cluster_from_flags("10.0.0.1:2222, 10.0.0.2:2222", "1")
    assert json.loads(cluster.tf_config()) == {
        "cluster": {"worker": ["10.0.0.1:2222", "10.0.0.2:2222"]}, "task": {"type": "worker", "index": 1}}
    assert cluster_from_environment({TF_CONFIG_VARIABLE: cluster.tf_config()}) == cluster
    assert (cluster.workers, cluster.is_chief, cluster.describe()) == (2, False, "worker 1 of 2 (10.0.0.2:2222)")
    assert cluster_from_flags("10.0.0.1:2222,10.0.0.2:2222", "0").is_chief


def test_a_chief_task_in_tf_config_is_the_chief_and_worker_0_is_not():
    tasks = {"chief": ["a:1"], "worker": ["b:1", "c:1"]}
    config = {"cluster": tasks, "task": {"type": "worker", "index": 0}}
    worker = cluster_from_environment({TF_CONFIG_VARIABLE: json.dumps(config)})
    chief = cluster_from_environment({TF_CONFIG_VARIABLE: json.dumps({**config, "task": {"type": "chief"}})})
    assert (worker.is_chief, chief.is_chief, chief.workers) == (False, True, 3)


@pytest.mark.parametrize("workers, index, named", [
    ("", "0", "names no worker"),
    ("10.0.0.1:2222", None, "--worker-index N"),
    ("10.0.0.1:2222", "first", "not 'first'"),
    ("10.0.0.1:2222,10.0.0.2:2222", "2", "use an index from 0 to 1"),
    ("10.0.0.1", "0", "'10.0.0.1' is not host:port"),
    ("10.0.0.1:70000", "0", "port from 1 to 65535"),
    ("10.0.0.1:2222,10.0.0.1:2222", "0", "10.0.0.1:2222 more than once"),
])
def test_bad_workers_flags_are_cluster_errors_that_name_the_bad_part(workers, index, named):
    with pytest.raises(ClusterError, match=named.replace("(", r"\(")):
        cluster_from_flags(workers, index)


@pytest.mark.parametrize("tf_config, named", [
    (None, "TF_CONFIG, which is not set"),
    ("{not json", "not valid JSON"),
    (json.dumps({"cluster": {"worker": ["a:1"]}}), 'needs a "cluster" and a "task"'),
    (json.dumps({"cluster": {"worker": "a:1"}, "task": {"type": "worker", "index": 0}}), "list of"),
    (json.dumps({"cluster": {"worker": ["a:1"]}, "task": {"type": "ps", "index": 0}}), "chief or worker"),
    (json.dumps({"cluster": {"ps": ["a:1"]}, "task": {"type": "worker", "index": 0}}), "no chief or worker task"),
    (json.dumps({"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 3}}), "index from 0 to 0"),
])
def test_a_bad_tf_config_is_a_cluster_error_that_says_what_to_write(tf_config, named):
    environment = {} if tf_config is None else {TF_CONFIG_VARIABLE: tf_config}
    with pytest.raises(ClusterError, match=named):
        cluster_from_environment(environment)


@pytest.mark.parametrize("text", ["0", "-5", "soon", "inf", "nan"])
def test_a_worker_timeout_must_be_seconds_above_zero(text):
    with pytest.raises(ClusterError, match="--worker-timeout"):
        parse_timeout(text)


def test_a_worker_timeout_defaults_and_reads_seconds():
    assert (parse_timeout(None), parse_timeout("2.5")) == (DEFAULT_WORKER_TIMEOUT, 2.5)


def test_a_cluster_refuses_the_sentence_encoder_presets():
    check_distributable(preset("article-mlp"))
    with pytest.raises(ClusterError, match="not the sentence encoder's"):
        check_distributable(preset("transfer"))


@pytest.mark.parametrize("flags, named", [
    (["--worker-index", "1"], "only apply with --workers or --distributed"),
    (["--workers", "127.0.0.1:1,127.0.0.1:2", "--worker-index", "0", "--distributed"], "not both"),
    (["--distributed", "--worker-index", "0"], "goes with --workers"),
    (["--distributed"], "TF_CONFIG, which is not set"),
    (["--workers", "127.0.0.1:1", "--worker-index", "0", "--preset", "transfer"], "sentence encoder"),
])
def test_bad_cluster_flags_end_the_cli_with_one_line_before_any_training(flags, named, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv(TF_CONFIG_VARIABLE, raising=False)
    data = csv_file(tmp_path / "reviews.csv", zip(*make_texts(40)))
    assert main(["train", str(data), "--models-dir", str(tmp_path / "models"), *flags]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert error[-1].startswith("error: ") and named in error[-1]
    assert not (tmp_path / "models").exists()


# --- which strategy trains ----------------------------------------------------------------------------------
@pytest.mark.parametrize("gpus, multi_worker, uses_encoder, kind", [
    (0, False, False, "default"),
    (1, False, False, "default"),
    (2, False, False, "mirrored"),
    (4, False, True, "default"),  # a head over encoder vectors stays on one GPU
    (0, True, False, "multi_worker"),
])
def test_the_strategy_follows_the_gpus_and_the_cluster(gpus, multi_worker, uses_encoder, kind):
    from core.distributed import strategy_kind

    assert strategy_kind(gpus, multi_worker, uses_encoder) == kind


def test_only_the_default_strategy_keeps_fit_on_string_inputs():
    import tensorflow as tf

    from core.distributed import needs_numeric_inputs

    assert not needs_numeric_inputs(tf.distribute.get_strategy())


def test_a_mirrored_run_over_two_devices_trains_and_saves_a_string_input_model(tmp_path):
    """MirroredStrategy with the model's own string lookups fails in `fit` (TF#80951, AddN on strings): what
    `_strategy()` did on every machine with several GPUs. Two CPU devices stand for the GPUs here."""
    script = textwrap.dedent(f"""
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        from core.config import preset
        from core.data import Dataset
        from core.distributed import Distribution
        from core.predict import Predictor
        from core.training import JobStatus, TrainingJob
        from tests.support import make_texts

        train, validation = (Dataset(*map(tuple, make_texts(count, seed))) for count, seed in ((120, 0), (40, 1)))
        config = preset("default").replace(epochs=4, batch_size=16, learning_rate=0.02, early_stopping=False)
        mirrored = Distribution(tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))
        job = TrainingJob(config, train, validation, distribution=mirrored).start()
        assert job.wait() == JobStatus.FINISHED, job.snapshot().error
        job.model.save({str(tmp_path / "model.keras")!r})
        predictor = Predictor.of_config(job.model, job.classes, config)
        print([p.label for p in predictor.predict(["great phone 1", "terrible hotel 2"])], job.epochs_run)
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True,
                            timeout=WORKER_SECONDS, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["['positive',", "'negative']", "4"]
    assert (tmp_path / "model.keras").is_file()


# --- two worker processes on 127.0.0.1 -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def mr_rows(tmp_path_factory) -> tuple[Path, Path]:
    """The first TRAIN_ROWS and TEST_ROWS rows of MR (shuffled already) as CSV files."""
    from core.data import load_dataset

    folder = shared_dataset("mr")
    written = tmp_path_factory.mktemp("mr")
    train, test = (load_dataset(folder / f"{part}.csv") for part in ("train", "test"))
    return (csv_file(written / "train.csv", zip(train.texts[:TRAIN_ROWS], train.labels[:TRAIN_ROWS])),
            csv_file(written / "test.csv", zip(test.texts[:TEST_ROWS], test.labels[:TEST_ROWS])))


def _train_command(data: Path, test: Path, preset_name: str, models: Path, *flags: str) -> list[str]:
    # One batch of every training row (1,080) per step: the sum of the workers' gradients is then the whole
    # batch's gradient, and both runs start from the same weights, so they take the same steps up to rounding
    # and dropout masks.
    return [sys.executable, "-m", "core", "train", str(data), "--test-file", str(test), "--preset", preset_name,
            "--models-dir", str(models), "--batch-size", "1080", "--no-early-stopping", "--json", *flags]


# Epochs and learning rate per preset: enough full-batch steps to learn MR, few enough not to overfit the 1,080
# rows so far that rounding differences grow into different models.
FULL_BATCH_RUNS = {"default": ("12", "0.003"), "article-mlp": ("10", "0.002")}


def _start_workers(command: list[str], tmp_path: Path, timeout: str) -> list[tuple[subprocess.Popen, Path]]:
    """Both workers of a 127.0.0.1 cluster on free ports, each with its stderr in a file."""
    addresses = ",".join(f"127.0.0.1:{port}" for port in free_ports(2))
    workers = []
    for index in range(2):
        log = tmp_path / f"worker-{index}.log"
        process = subprocess.Popen([*command, "--workers", addresses, "--worker-index", str(index),
                                    "--worker-timeout", timeout], cwd=REPO, stdout=subprocess.PIPE,
                                   stderr=log.open("w"), text=True)
        workers.append((process, log))
    return workers


def _finish(workers: list[tuple[subprocess.Popen, Path]]) -> list[dict]:
    results = []
    for process, log in workers:
        try:
            output, _ = process.communicate(timeout=WORKER_SECONDS)
        except subprocess.TimeoutExpired:
            for other, _ in workers:
                other.kill()
            pytest.fail(f"a worker ran past {WORKER_SECONDS} s: {log.read_text()[-1500:]}")
        assert process.returncode == 0, log.read_text()[-1500:]
        results.append(json.loads(output.strip().splitlines()[-1]))
    return results


@pytest.mark.slow
@pytest.mark.parametrize("preset_name", ["default", "article-mlp"])
def test_two_workers_train_mr_as_accurately_as_one_process_and_only_the_chief_saves(preset_name, mr_rows, tmp_path):
    epochs, learning_rate = FULL_BATCH_RUNS[preset_name]
    settings = ("--epochs", epochs, "--learning-rate", learning_rate)
    alone = subprocess.run(_train_command(*mr_rows, preset_name, tmp_path / "alone", *settings), cwd=REPO,
                           capture_output=True, text=True, timeout=WORKER_SECONDS)
    assert alone.returncode == 0, alone.stderr[-1500:]
    single = json.loads(alone.stdout.strip().splitlines()[-1])

    shared = tmp_path / "shared-models"  # one folder for both, as on shared storage
    chief, worker = _finish(_start_workers(_train_command(*mr_rows, preset_name, shared, *settings), tmp_path, "90"))

    assert abs(chief["test_accuracy"] - single["test_accuracy"]) <= 0.01, (chief, single)
    assert chief["test_accuracy"] > 0.6  # it learned: MR is balanced
    assert (chief["saved"], chief["workers"], chief["device"].startswith("2 workers × ")) == (True, 2, True)
    assert (worker["saved"], worker["task_index"], worker["epochs_run"]) == (False, 1, int(epochs))
    assert [path.name for path in shared.iterdir()] == [Path(chief["model_dir"]).name]
    assert main(["predict", chief["model_dir"], "a moving , beautiful film"]) == 0


@pytest.mark.slow
def test_killing_a_worker_makes_the_other_exit_with_a_clear_message_within_the_timeout(mr_rows, tmp_path):
    timeout = 30
    command = _train_command(*mr_rows, "article-mlp", tmp_path / "models", "--epochs", "500", "--batch-size", "64")
    (chief, chief_log), (worker, _) = _start_workers(command, tmp_path, str(timeout))
    deadline = time.monotonic() + WORKER_SECONDS
    while "Epoch 1/" not in chief_log.read_text() and time.monotonic() < deadline and chief.poll() is None:
        time.sleep(0.5)
    assert "Epoch 1/" in chief_log.read_text(), chief_log.read_text()[-1500:]
    worker.send_signal(signal.SIGKILL)
    killed = time.monotonic()
    try:
        chief.wait(timeout=timeout + 60)
    except subprocess.TimeoutExpired:
        chief.kill()
        pytest.fail(f"the chief still ran {timeout + 60} s after its peer was killed: {chief_log.read_text()[-1500:]}")
    waited = time.monotonic() - killed
    last_line = chief_log.read_text().strip().splitlines()[-1]
    assert chief.returncode == EXIT_WORKER_LOST, chief_log.read_text()[-1500:]
    assert last_line.startswith("error: Distributed training stopped on worker 0 of 2") and "Traceback" not in last_line
    assert "another worker stopped answering" in last_line
    assert waited < timeout + 30
    assert not (tmp_path / "models").exists() or not any((tmp_path / "models").iterdir())


def test_the_models_page_shows_a_cluster_run_s_device_in_the_user_s_language(monkeypatch):
    from core import i18n
    from pages import _ui

    monkeypatch.setattr(_ui, "t", lambda key, **values: i18n.t(key, "zh", **values))
    assert _ui.device_text("2 workers × CPU (2 cores)") == "2 台机器 × CPU（2 核）"


"""The machines of a distributed training run: TF_CONFIG read, checked and built from `--workers` and `--worker-index`.

TensorFlow's MultiWorkerMirroredStrategy reads the cluster from the TF_CONFIG variable and fails deep inside
gRPC on a typo there; this module refuses a bad cluster first, in a sentence that names the bad part. It imports
no TensorFlow, so the CLI checks the flags before paying for that import.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.errors import ClusterError

if TYPE_CHECKING:
    from core.config import TrainConfig

TF_CONFIG_VARIABLE = "TF_CONFIG"
# Seconds a worker, once training, waits for the others (to finish a step) before it gives up.
DEFAULT_WORKER_TIMEOUT = 120.0
# Exit code of a worker that lost the others: its TensorFlow cannot shut down cleanly any more.
EXIT_WORKER_LOST = 3
# The task types MultiWorkerMirroredStrategy trains with; "chief" is optional and is then the one that saves.
TRAINING_TASK_TYPES = ("chief", "worker")
_EXAMPLE = '{"cluster": {"worker": ["10.0.0.1:12345", "10.0.0.2:12345"]}, "task": {"type": "worker", "index": 0}}'


@dataclass(frozen=True)
class Cluster:
    """Every training task's address by task type, and which task this process is."""

    tasks: Mapping[str, tuple[str, ...]]
    task_type: str
    task_index: int

    @property
    def workers(self) -> int:
        """Processes that train (chief included)."""
        return sum(len(self.tasks.get(task_type, ())) for task_type in TRAINING_TASK_TYPES)

    @property
    def is_chief(self) -> bool:
        """Whether this task saves the model: the "chief" task, or worker 0 when the cluster names no chief
        (MultiWorkerMirroredStrategy's own rule)."""
        if "chief" in self.tasks:
            return self.task_type == "chief"
        return self.task_type == "worker" and self.task_index == 0

    @property
    def address(self) -> str:
        return self.tasks[self.task_type][self.task_index]

    def tf_config(self) -> str:
        """The TF_CONFIG value that describes this cluster and task."""
        return json.dumps({"cluster": {name: list(addresses) for name, addresses in self.tasks.items()},
                           "task": {"type": self.task_type, "index": self.task_index}})

    def describe(self) -> str:
        """E.g. "worker 1 of 2 (127.0.0.1:23457)", for progress lines."""
        return f"{self.task_type} {self.task_index} of {self.workers} ({self.address})"


def cluster_from_flags(workers: str, worker_index: str | None) -> Cluster:
    """The cluster `--workers host:port,host:port --worker-index N` describes: worker N of that list, worker 0
    being the chief.

    Raises:
        ClusterError: an address is not host:port, an address repeats, or the index is missing or out of range.
    """
    addresses = tuple(address.strip() for address in workers.split(",") if address.strip())
    if not addresses:
        raise ClusterError(f"--workers {workers!r} names no worker: give host:port addresses separated by commas, "
                           "for example --workers 10.0.0.1:12345,10.0.0.2:12345.")
    if worker_index is None or not worker_index.strip().isdigit():
        given = "" if worker_index is None else f", not {worker_index!r}"
        raise ClusterError(f"--workers needs --worker-index N{given}: 0 on the first machine of the list, 1 on the "
                           "second, and so on.")
    return _checked(Cluster({"worker": addresses}, "worker", int(worker_index)), "--workers")


def cluster_from_environment(environment: Mapping[str, str] | None = None) -> Cluster:
    """The cluster the TF_CONFIG variable describes.

    Raises:
        ClusterError: TF_CONFIG is unset, not JSON, or describes no training task this process could be.
    """
    text = (os.environ if environment is None else environment).get(TF_CONFIG_VARIABLE, "").strip()
    if not text:
        raise ClusterError(f"--distributed reads the cluster from {TF_CONFIG_VARIABLE}, which is not set: set it to "
                           f"JSON such as {_EXAMPLE}, or give --workers and --worker-index instead.")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise ClusterError(f"{TF_CONFIG_VARIABLE} is not valid JSON ({error.msg} at character {error.pos}): "
                           f"write it like {_EXAMPLE}.") from None
    return _checked(_parsed(value), TF_CONFIG_VARIABLE)


def _parsed(value: Any) -> Cluster:
    """A Cluster from TF_CONFIG's JSON, its shape checked; `_checked` judges the addresses and the index."""
    cluster = value.get("cluster") if isinstance(value, dict) else None
    task = value.get("task") if isinstance(value, dict) else None
    if not isinstance(cluster, dict) or not isinstance(task, dict):
        raise ClusterError(f"{TF_CONFIG_VARIABLE} needs a \"cluster\" and a \"task\" object, like {_EXAMPLE}.")
    tasks = {}
    for task_type, addresses in cluster.items():
        if not isinstance(addresses, list) or not all(isinstance(address, str) for address in addresses):
            raise ClusterError(f"{TF_CONFIG_VARIABLE} cluster {task_type!r} must be a list of \"host:port\" strings.")
        tasks[task_type] = tuple(addresses)
    task_type, task_index = task.get("type"), task.get("index", 0)
    if task_type not in TRAINING_TASK_TYPES or not isinstance(task_index, int) or isinstance(task_index, bool):
        raise ClusterError(f"{TF_CONFIG_VARIABLE} task {task!r} must have a \"type\" of "
                           f"{' or '.join(TRAINING_TASK_TYPES)} and a whole-number \"index\".")
    return Cluster(tasks, task_type, task_index)


def _checked(cluster: Cluster, source: str) -> Cluster:
    """`cluster` itself once its addresses are host:port, none repeats and its task exists.

    Raises:
        ClusterError: the first of these that fails, naming `source` (the flag or variable it came from).
    """
    addresses = [address for task_type in TRAINING_TASK_TYPES for address in cluster.tasks.get(task_type, ())]
    if not addresses:
        raise ClusterError(f"{source} names no chief or worker task: list the training machines under \"worker\".")
    for address in addresses:
        _check_address(address, source)
    repeated = sorted({address for address in addresses if addresses.count(address) > 1})
    if repeated:
        raise ClusterError(f"{source} lists {', '.join(repeated)} more than once: each worker needs its own port.")
    count = len(cluster.tasks.get(cluster.task_type, ()))
    if not 0 <= cluster.task_index < count:
        raise ClusterError(f"{source} makes this process {cluster.task_type} {cluster.task_index}, but there "
                           f"{'is' if count == 1 else 'are'} {count} {cluster.task_type} address"
                           f"{'' if count == 1 else 'es'}: use an index from 0 to {count - 1}.")
    return cluster


def _check_address(address: str, source: str) -> None:
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ClusterError(f"{source} address {address!r} is not host:port with a port from 1 to 65535, "
                           "for example 10.0.0.2:12345.")


def parse_timeout(text: str | None) -> float:
    """Seconds from `--worker-timeout` (DEFAULT_WORKER_TIMEOUT when not given).

    Raises:
        ClusterError: not a number of seconds above 0.
    """
    if text is None:
        return DEFAULT_WORKER_TIMEOUT
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not seconds > 0 or math.isinf(seconds):
        raise ClusterError(f"--worker-timeout {text!r} must be a number of seconds above 0, for example 120.")
    return seconds


def check_distributable(config: TrainConfig) -> None:
    """Refuses a config that several devices or machines cannot train (core/distributed.py feeds no encoder).

    Raises:
        ClusterError: the config reads the sentence encoder's vectors.
    """
    if config.uses_encoder:
        raise ClusterError("Training on several GPUs or machines supports the TF-IDF and sequence presets, not the "
                           "sentence encoder's: train the transfer preset on one machine.")


def free_ports(count: int) -> Sequence[int]:
    """`count` TCP ports free on this machine now, for a cluster of local workers (tests, benchmarks)."""
    import socket

    sockets = [socket.socket() for _ in range(count)]
    try:
        for handle in sockets:
            handle.bind(("127.0.0.1", 0))
        return [handle.getsockname()[1] for handle in sockets]
    finally:
        for handle in sockets:
            handle.close()

"""What a session checks before it starts a training run, and what it makes of a finished one.

A run is refused before anything is built when it would take more than its share: core.limits' bounds, a
visitor's runs beyond PUBLIC_JOBS_PER_VISITOR, or a model the session's disk quota has no room for. A finished
run is evaluated on its held-out part and saved (core.experiment) and comes back as a model ready to activate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core import limits
from core.active import ActiveModel
from core.errors import LimitError, TrainingError
from core.experiment import EvaluationResult, finish_run, held_out
from core.i18n import Message

if TYPE_CHECKING:
    from core.config import TrainConfig
    from core.data import Dataset, Split
    from core.registry import ModelRegistry
    from core.training import JobQueue, TrainingJob


def check_can_train(dataset: Dataset | None, training: bool) -> None:
    """Raises TrainingError unless data is loaded and no other run is going."""
    if dataset is None:
        raise TrainingError(Message("train_needs_data"))
    if training:
        raise TrainingError(Message("train_already_running"))


def check_share(config: TrainConfig, dataset: Dataset, registry: ModelRegistry, queue: JobQueue, *,
                public: bool, visitor: str | None) -> None:
    """Refuses a run over core.limits' bounds (public mode's caps, and memory anywhere), a visitor's run beyond
    PUBLIC_JOBS_PER_VISITOR, and a model `registry`'s disk quota has no room for.

    Raises:
        LimitError: says which bound and its number.
    """
    classes = len(dataset.classes)
    limits.check_training(config, classes, public)
    if public and visitor is not None and queue.jobs_of(visitor) >= limits.PUBLIC_JOBS_PER_VISITOR:
        raise LimitError(Message("limit_runs_per_visitor", count=limits.PUBLIC_JOBS_PER_VISITOR))
    saved_bytes = limits.estimate_parameters(config, classes) * limits.BYTES_PER_SAVED_PARAMETER
    registry.check_room(saved_bytes, Message("quota_this_model"))


def saved_run(job: TrainingJob, split: Split, registry: ModelRegistry,
              name: str | None) -> tuple[ActiveModel, EvaluationResult]:
    """The finished job's model, evaluated on the held-out part of `split` and saved in `registry` under
    `name` (None picks one), with that evaluation."""
    info, evaluation, predictor = finish_run(job, split, registry, name)
    source, rows = held_out(split)
    return ActiveModel(info, predictor), EvaluationResult(evaluation, source, len(rows))

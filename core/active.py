"""The model a session predicts with, the evaluation it shows for it, and where it went when another session
renamed or deleted it.

Sessions share the models folder locally, so the active model can change under a session; a model is known by
its creation time, which a rename keeps and a replacement does not.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from core.errors import RegistryError
from core.experiment import EvaluationResult, saved_evaluation
from core.i18n import Message
from core.registry import ModelInfo

if TYPE_CHECKING:
    from core.predict import Predictor
    from core.shelf import ModelShelf


@dataclass(frozen=True)
class ActiveModel:
    """The model predictions come from: its registry entry and a ready predictor."""

    info: ModelInfo
    predictor: Predictor

    @property
    def name(self) -> str:
        return self.info.name


class ModelChange(NamedTuple):
    """The active model as another session left it: renamed (`new` is its name now) or deleted (`new` is None)."""

    old: str
    new: str | None


def still_there(shelf: ModelShelf, info: ModelInfo) -> bool:
    """True while the shelf has the model `info` under its name, usable and with its creation time."""
    try:
        saved = shelf.find(info.name)
    except RegistryError:  # ModelNotFoundError among them
        return False
    return saved.broken is None and saved.metadata.get("created") == info.metadata.get("created")


def moved(shelf: ModelShelf, info: ModelInfo) -> ModelInfo | None:
    """The usable model on the shelf created when `info` was (the same model, maybe renamed); None if none is."""
    created = info.metadata.get("created")
    return next((saved for saved in shelf.models()
                 if created and saved.metadata.get("created") == created and not saved.broken), None)


class ModelInUse:
    """A session's active model and the evaluation it shows for it, changed together under one lock.

    The lock is the workspace's (reentrant), so a finishing run can change its own state and the model in use
    at once; reading the shelf's folders happens outside it.
    """

    def __init__(self, lock: threading.RLock) -> None:
        self.active: ActiveModel | None = None
        self.evaluation: EvaluationResult | None = None
        # The active model another session deleted (or replaced) under this one: named until another is active.
        self.lost: str | None = None
        self._lock = lock

    def required(self) -> ActiveModel:
        """The active model.

        Raises:
            RegistryError: no model is active.
        """
        active = self.active
        if active is None:
            raise RegistryError(Message("no_model_active"))
        return active

    def use(self, model: ActiveModel, evaluation: EvaluationResult | None) -> None:
        """Makes `model` the active one, showing `evaluation`."""
        with self._lock:
            self.active, self.evaluation, self.lost = model, evaluation, None

    def activate(self, shelf: ModelShelf, name: str) -> ActiveModel:
        """Loads the saved model `name` for prediction and shows its saved evaluation.

        Raises:
            ModelNotFoundError: no model has that name.
            RegistryError: the model is broken or cannot be loaded.
        """
        active = ActiveModel(shelf.usable(name), shelf.load_predictor(name))
        self.use(active, saved_evaluation(active.info))
        return active

    def check(self, shelf: ModelShelf) -> ModelChange | None:
        """Notices when another session renamed or deleted the active model, so predictions never come from a
        model that is no longer listed. A renamed model stays active under its new name; a deleted one is no
        longer active, and `lost` names it until another model is.

        Returns:
            What changed, for the pages to say; None when the active model is still there (or none is active).
        """
        active = self.active
        if active is None or still_there(shelf, active.info):
            return None
        now = moved(shelf, active.info)
        with self._lock:
            if self.active is not active:  # another model became active meanwhile
                return None
            if now is not None:
                self.active = ActiveModel(now, active.predictor)
            else:
                self.active = self.evaluation = None
                self.lost = active.name
        return ModelChange(active.name, now.name if now else None)

    def set_threshold(self, shelf: ModelShelf, threshold: float | None) -> ModelInfo:
        """Saves the active two-class model's decision threshold with it and decides with it from now on; None
        goes back to predicting the likeliest class.

        Raises:
            RegistryError: no model is active, or it is bundled (read-only) or broken.
            ConfigError: the model has more than two classes, or the threshold is not between 0 and 1.
        """
        active = self.required()
        info = shelf.writable(active.name).set_threshold(active.name, threshold)
        active.predictor.threshold = threshold  # the loaded model now decides as its saved copy does
        with self._lock:
            if self.active is active:
                self.active = ActiveModel(info, active.predictor)
        return info

    def rename(self, shelf: ModelShelf, old: str, new: str) -> ModelInfo:
        """Renames a saved model, keeping it active if it was.

        Raises:
            ModelNotFoundError, InvalidModelNameError, RegistryError: as `ModelRegistry.rename`; RegistryError
                also for a bundled model.
        """
        info = shelf.writable(old).rename(old, new)
        with self._lock:
            if self.active is not None and self.active.name == old:
                self.active = ActiveModel(info, self.active.predictor)
        return info

    def delete(self, shelf: ModelShelf, name: str) -> None:
        """Deletes a saved model; if it was active, no model is active afterwards.

        Raises:
            ModelNotFoundError, RegistryError: as `ModelRegistry.delete`; RegistryError also for a bundled model.
        """
        shelf.writable(name).delete(name)
        with self._lock:
            if self.active is not None and self.active.name == name:
                self.active = self.evaluation = None

    def show(self, result: EvaluationResult, of: ActiveModel) -> None:
        """Shows `result`, the evaluation of model `of` on an uploaded file, unless another model is active now
        (a run that finished meanwhile shows its own evaluation instead)."""
        with self._lock:
            if self.active is of:
                self.evaluation = result

    def show_own(self) -> None:
        """Shows the active model's own evaluation (on its test split) again instead of an uploaded file's."""
        if self.evaluation is None or self.evaluation.dataset is None:  # already its own: no need to wait for the lock
            return
        with self._lock:
            if self.active is not None and self.evaluation is not None and self.evaluation.dataset is not None:
                self.evaluation = saved_evaluation(self.active.info)

    def clear(self) -> None:
        """Lets go of the model and its evaluation (the session ended)."""
        with self._lock:
            self.active = self.evaluation = None

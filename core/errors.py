"""Typed exceptions for everything a user can get wrong, so the UI and CLI can show one clear line each."""

from __future__ import annotations

from core.i18n import Message


class StudioError(Exception):
    """Base of every error Sentiment Studio raises on purpose; its message is meant for the user.

    The message is a `core.i18n.Message`, which pages show in the session's language and `str()` gives in
    English, or an English string (a reason from the operating system or a library, say) shown as it is.
    """

    @property
    def translated(self) -> bool:
        """Whether the message can be shown in any language, rather than in English only."""
        return bool(self.args) and isinstance(self.args[0], Message)

    def text(self, lang: str = "en") -> str:
        """The message in `lang` when it is translated, else as written."""
        return self.args[0].render(lang) if self.translated else str(self)


class DataError(StudioError, ValueError):
    """The data a user brought cannot be used; the message names the file, column, row or value."""


class FileTooLargeError(DataError):
    """The file is over the configured size limit."""


class EmptyFileError(DataError):
    """The file has no bytes, only a header, or no usable rows."""


class NotTextError(DataError):
    """The file is binary (an image, a zip, a spreadsheet) rather than delimited text."""


class EncodingError(DataError):
    """The bytes cannot be decoded in any supported encoding without garbling."""


class CsvFormatError(DataError):
    """The text cannot be parsed as a table (unclosed quote, ragged rows, no delimiter)."""


class ColumnError(DataError):
    """A text or label column is missing, ambiguous or unusable."""


class TooFewRowsError(DataError):
    """Too few usable rows remain to train and evaluate."""


class ClassError(DataError):
    """The label column gives one class only, a class with too few rows, or too many classes."""


class UnknownLabelError(ClassError):
    """A test file has labels the model was not trained on; it can still be scored on the rows it knows."""


class ConfigError(StudioError, ValueError):
    """A training setting is out of range; the message names the setting and the allowed values."""


class ClusterError(ConfigError):
    """A distributed run's cluster (TF_CONFIG, --workers, --worker-index) is malformed; the message names the part."""


class RegistryError(StudioError):
    """A saved model cannot be found, named, loaded or written."""


class ModelNotFoundError(RegistryError, FileNotFoundError):
    """No saved model has that name or directory."""


class InvalidModelNameError(RegistryError, ValueError):
    """A model name is empty, too long, reserved or would escape the models folder."""


class EncoderMissingError(RegistryError):
    """The pretrained sentence encoder a transfer model needs is not installed, or is another build of it."""


class TrainingError(StudioError, RuntimeError):
    """Training failed (NaN loss, out of memory, a callback error); the message says what to try."""


class WorkerLostError(TrainingError):
    """Another worker of a distributed run stopped answering (killed, crashed, never started) within the timeout."""


class ExportError(StudioError):
    """A model cannot be exported in the format asked for; the message says why and what to do instead."""


class LimitError(StudioError, ValueError):
    """A run, model or session would take more than its share of a shared server (core.limits); the message gives
    the limit and what to change."""


class DiskQuotaError(LimitError, RegistryError):
    """Saving a model would take a session over its disk quota (public mode)."""

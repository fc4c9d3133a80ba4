"""Errors a user can cause: the CLI prints their message as one line and exits 2."""


class FastMLPError(Exception):
    """A user's mistake (bad input, bad config, missing file); never an internal bug."""


class ConfigError(FastMLPError):
    """A config key is unknown, of the wrong type, or out of range."""


class DataError(FastMLPError):
    """A data file or dataset is missing, malformed or inconsistent."""


class Diverged(FastMLPError):
    """Training met a non-finite loss (the learning rate is usually too large)."""


class ModelFileError(FastMLPError):
    """A saved model file is missing, malformed, or disagrees with itself."""

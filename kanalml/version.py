"""The package's version, in a module of its own so that code below :mod:`kanalml` (the model's
provenance, its card) reads it without importing the package, which imports them back. The
build reads it from here (``[tool.hatch.version]`` in pyproject.toml); ``kanalml.__version__``
re-exports it."""

__version__ = "0.1.0"

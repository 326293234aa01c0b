"""kanalml: rank Indonesian public-channel posts for extremist content, for human review.

Public API: :func:`score`, :func:`train`, :func:`load_model`, :func:`evaluate`. Heavy modules
(numpy, pandas, scikit-learn, the model) load on first use, not on import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["DataError", "KanalmlError", "ModelError", "__version__", "evaluate", "load_model",
           "score", "train"]

from kanalml.api import load_model, score
from kanalml.errors import DataError, KanalmlError, ModelError
from kanalml.version import __version__

if TYPE_CHECKING:
    from kanalml.model import Model


def train(texts: Any, labels: Any, **options: Any) -> Model:
    """Fit a new model; see :func:`kanalml.model.train` for the options."""
    from kanalml.model import train as _train

    return _train(texts, labels, **options)


def evaluate(model: Model, texts: Any, labels: Any, **options: Any) -> dict[str, dict[str, Any]]:
    """Metrics of ``model`` on labelled posts; see :func:`kanalml.evaluation.evaluate`."""
    from kanalml.evaluation import evaluate as _evaluate

    return _evaluate(model, texts, labels, **options)


"""Labels unknown for some rows, given fold numbers, the category model, and training-data
checks on evaluation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import NEGATIVE_LIKE, POSITIVE_LIKE

import kanalml
from kanalml.model import cross_val_decision


def category_of(text: str) -> str:
    return "takfir" if any(w in text.lower() for w in ("thaghut", "murtad", "kafir")) \
        else "hasutan"


@pytest.fixture(scope="module")
def categorized(corpus):
    texts, labels = corpus
    cats = [category_of(t) if y else None for t, y in zip(texts, labels["radikalisme"])]
    model = kanalml.train(texts, labels, folds=3, random_state=0, categories=cats)
    return model, cats


def test_category_model_predicts_the_categories_it_learned(categorized, corpus) -> None:
    model, cats = categorized
    texts, _ = corpus
    assert model.categories_ == ["hasutan", "takfir"]
    prediction = model.predict(texts)
    assert np.array_equal(prediction.proba, model.predict_proba(texts))
    positives = [i for i, c in enumerate(cats) if c]
    right = np.mean([prediction.category[i] == cats[i] for i in positives])
    assert right >= 0.9
    accuracy = model.metadata_["cv"]["metrics"]["radikalisme"]["category_accuracy"]
    assert 0.5 <= accuracy <= 1.0


def test_score_names_the_category(categorized) -> None:
    model, _ = categorized
    one = kanalml.score("aparat adalah ansharut thaghut, kafirkan mereka", model=model)
    assert one["category"] == "takfir"
    frame = kanalml.score(POSITIVE_LIKE + NEGATIVE_LIKE, model=model)
    assert list(frame.columns) == ["score", "radikalisme", "promosi", "category", "flagged"]
    assert set(frame["category"]) <= {"hasutan", "takfir"}


def test_categories_survive_save_and_load(categorized, tmp_path) -> None:
    model, _ = categorized
    again = kanalml.load_model(model.save(tmp_path / "m"))
    texts = POSITIVE_LIKE + NEGATIVE_LIKE
    a, b = model.predict(texts), again.predict(texts)
    assert again.categories_ == model.categories_
    assert np.array_equal(a.category, b.category)
    assert np.allclose(a.proba, b.proba, rtol=0, atol=1e-12)


def test_a_model_without_categories_has_no_category_column(small_model) -> None:
    assert small_model.categories_ == []
    assert "category" not in kanalml.score(["satu", "dua"], model=small_model).columns
    assert small_model.predict(["satu"]).category is None


def test_categories_need_two_values(corpus) -> None:
    texts, labels = corpus
    with pytest.raises(kanalml.DataError, match="at least two values"):
        kanalml.train(texts, labels, folds=3, categories=["takfir"] * len(texts))


def test_unknown_labels_are_left_out_of_that_label_only(corpus) -> None:
    texts, labels = corpus
    partial = labels.astype(float)
    unknown = np.arange(len(texts)) % 4 == 0
    partial.loc[unknown, "promosi"] = np.nan
    model = kanalml.train(texts, partial, folds=3, random_state=0)
    metrics = model.metadata_["cv"]["metrics"]
    assert metrics["radikalisme"]["rows"] == len(texts)
    assert metrics["promosi"]["rows"] == int((~unknown).sum())
    assert metrics["promosi"]["positives"] == int(labels.loc[~unknown, "promosi"].sum())
    # The promosi classifier never saw the unknown rows: changing their labels to anything
    # leaves it the same.
    flipped = partial.copy()
    flipped.loc[unknown, "promosi"] = np.nan
    again = kanalml.train(texts, flipped, folds=3, random_state=0)
    assert np.array_equal(again.coef_, model.coef_)


def test_labels_other_than_0_1_or_empty_are_refused(corpus) -> None:
    texts, labels = corpus
    bad = labels.astype(object)
    bad.loc[0, "promosi"] = "ya"
    with pytest.raises(kanalml.DataError, match="0, 1 or empty"):
        kanalml.train(texts, bad, folds=3)


def test_given_fold_numbers_are_used(corpus) -> None:
    texts, labels = corpus
    folds = np.arange(len(texts)) % 2 + 1
    cv = cross_val_decision(texts, labels, folds=folds)
    assert np.array_equal(cv.fold_of, folds)
    with pytest.raises(ValueError, match="one fold number"):
        cross_val_decision(texts, labels, folds=folds[:-1])


def test_evaluating_on_training_posts_warns(small_model, corpus) -> None:
    texts, labels = corpus
    with pytest.warns(UserWarning, match=rf"{len(texts)} of {len(texts)} evaluated posts"):
        kanalml.evaluate(small_model, texts, labels)
    # Other case and spacing are still the same post.
    shouted = [f"  {t.upper()} " for t in texts[:5]]
    with pytest.warns(UserWarning, match="5 of 5 evaluated posts"):
        kanalml.evaluate(small_model, shouted, labels.iloc[:5])


def test_evaluating_on_new_posts_does_not_warn(small_model, recwarn) -> None:
    texts = POSITIVE_LIKE + NEGATIVE_LIKE
    labels = pd.DataFrame({"radikalisme": [1] * 6 + [0] * 6})
    kanalml.evaluate(small_model, texts, labels)
    assert not [w for w in recwarn if "training data" in str(w.message)]


def test_cross_val_decision_returns_named_fields(corpus) -> None:
    from kanalml.model import CrossValidation, cross_val_decision

    texts, labels = corpus
    cv = cross_val_decision(texts, labels, folds=3)
    assert isinstance(cv, CrossValidation)
    names, Y, decisions, fold_of, category = cv  # still a tuple for older callers
    assert names == cv.names and Y is cv.Y and decisions is cv.decisions
    assert fold_of is cv.fold_of and category is None

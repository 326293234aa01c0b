"""Model cards: the README.md that travels in every saved model directory.

Owns the card's wording; everything it states comes from the model's metadata or the caller.
Knows nothing of files or the bundle format.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kanalml.model import Model

NETIFIER_DATA = """\
`netifier/train.csv` from the Netifier project (A. Izzan, C. Wibisono, I. F. Putra,
github.com/ahmadizzan/netifier): posts from Twitter, Instagram and Kaskus, multi-label.
License **CC BY-NC-SA 4.0**: a model trained on it is a derivative work under the same
license (attribution, non-commercial, share-alike)."""

LIMITATIONS = """\
- Labels come from 2010s Twitter/Instagram/Kaskus, not Telegram; channel propaganda differs in
  length, style and topic. Expect drift; re-measure on labelled Telegram posts before relying on
  a threshold.
- Bag-of-words: it cannot tell reporting or condemning from endorsing when the words are the
  same. News about terrorism and counter-extremism messages are the typical false positives.
- Religious vocabulary is not extremism; watch for bias against ordinary religious speech.
- Obfuscation beyond the handled forms (images, audio, new coded words) is invisible to it."""


def model_card(model: Model, name: str, *, built_by: str, data: str,
               limitations: str = LIMITATIONS, evaluation: str = "") -> str:
    """Markdown card for ``model``: intended use, data, method, CV metrics, limitations.

    ``built_by`` is the command that built it; ``data`` describes the training
    data and its license; ``evaluation`` (Markdown) adds results on held-out data.
    Everything else comes from the model's metadata.
    """
    from kanalml.version import __version__

    meta = model.metadata_
    params = meta["params"]
    if params.get("content_only"):
        words = ("stopwords removed with negations kept; pronouns, address, modals and channel "
                 "housekeeping (\"kalian\", \"admin\", \"wajib\") give no feature")
    else:
        words = "stopwords with negations and pronouns kept"
    norm = (f"normalized as if a post had at least {params['min_words']} words"
            if params.get("min_words") else "L2-normalized")
    folds = meta.get("training", {}).get("options", {}).get(
        "fold_assignment", f"stratified, seed {meta['cv']['random_state']}")
    rules = meta.get("threshold_rules") or dict.fromkeys(model.labels_, meta["threshold_rule"])
    rows = "\n".join(
        f"| `{label}` | {m.get('rows', meta['training_rows'])} | {m['positives']} | "
        f"{m['average_precision']:.3f} "
        f"({min(m['average_precision_folds']):.3f}-{max(m['average_precision_folds']):.3f}) | "
        f"{m['average_precision_pooled']:.3f} | {m['roc_auc']:.3f} | "
        f"{meta['thresholds'][label]:.3f} | {m['precision']:.3f} | {m['recall']:.3f} |"
        for label, m in ((label, meta["cv"]["metrics"][label]) for label in model.labels_)
    )
    rule_lines = "\n".join(f"- `{label}`: {rule}" for label, rule in rules.items())
    categories = "" if not model.categories_ else (
        f"\n\nCategories (`category` in every output): a multinomial logistic regression "
        f"(C={params.get('category_C')}, balanced classes) over the same features, fitted on the "
        f"positives of `{model.primary}`: {', '.join(f'`{c}`' for c in model.categories_)} "
        f"(docs/annotation-guide.md). Out-of-fold accuracy on those positives: "
        f"{meta['cv']['metrics'][model.primary].get('category_accuracy', 'n/a')}.")
    feedback = meta.get("feedback")
    feedback_text = "" if not feedback else (
        f"\nModerator decisions merged from `{feedback['file']}` (SHA-256 `{feedback['sha256']}`): "
        f"{feedback['updated']} training rows relabelled, {feedback['added']} posts added "
        f"({feedback['decisions']} decisions, latest per post).\n")
    return f"""# kanalml model `{name}`

Scores Indonesian posts for extremist content (`{model.primary}`, the primary score) and
{len(model.labels_) - 1} related label(s). Built by `{built_by}` with kanalml
{__version__} on {meta['created']}.

## Intended use
Triage for Indonesian-speaking human moderators of **public** channels: it orders a review
queue and shows the words that drove each score. It must never trigger an automatic sanction,
takedown or report on its own; a person reviews every item.

## Training data
{data}

{meta['training_rows']} rows; SHA-256 of the texts and labels as trained:
`{meta['training_sha256']}`.
{feedback_text}
## Model
Indonesian normalization (Unicode folding, look-alikes, placeholders, leetspeak, elongation,
slang via indoNLP, the extremism lexicon's spelling variants mapped to one form (`thoghut`,
`toghut` -> `thaghut`; kanalml/lexicon.py), {words}, Sastrawi stems) -> two feature
blocks, each {norm}: presence of stem 1-{params['ngram_max']}-grams (weight \
{params['word_weight']}) and character \
{params['char_ngrams'][0]}-{params['char_ngrams'][1]}-grams of the normalized words and adjacent \
word pairs (min_df {params['min_df']}) -> per label, naive-Bayes log-count-ratio scaling \
(alpha {params['nb_alpha']}) and a logistic regression (C={params['C']}, balanced classes) -> \
Platt calibration on out-of-fold scores -> a threshold per label:
{rule_lines}{categories}

## Cross-validated metrics
{meta['cv']['folds']} folds ({folds}); "rows" are the rows that know the label.
Every fitted step (stem table, vocabularies, NB ratios, classifier) was fitted inside each
fold. Average precision is the mean over folds (range in brackets); "pooled" ranks all
out-of-fold scores together. Precision and recall are at the threshold, on out-of-fold
calibrated probabilities.

| label | rows | positives | AP (folds) | pooled AP | ROC-AUC | threshold | precision | recall |
|---|---|---|---|---|---|---|---|---|
{rows}
{evaluation}
## Known limitations
{limitations}
"""

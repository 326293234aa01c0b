"""kanalml.score / kanalml.load_model: the public contract, on the default and a small model."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pandas as pd
import pytest
from conftest import (
    DEFAULT_LABELS,
    DEMO_EXPORT,
    HARD_NEGATIVES,
    NEGATIVE_LIKE,
    POSITIVE_LIKE,
    REPO_ROOT,
    SMALL_LABELS,
    require,
)

import kanalml
from kanalml.api import default_model_path
from kanalml.preprocess import tokenize

SLOGAN = "bubarkan pemerintah thaghut, tegakkan khilafah"
EVERYDAY_POSTS = [
    "Cuaca Jakarta hari ini cerah berawan, sore nanti hujan ringan",
    "Jalan tol dalam kota macet parah pagi ini, hindari Semanggi",
    "Harga cabai rawit di pasar induk naik lagi minggu ini",
]
MIXED = [SLOGAN, *EVERYDAY_POSTS, "dasar k4f1r 💣", "", "Selamat pagi semua 😀"]


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, cwd=REPO_ROOT, timeout=300, check=False)


# --- import is cheap ----------------------------------------------------------------------

def test_import_does_not_load_heavy_modules_or_the_model() -> None:
    result = run_python("""
        import json, sys
        import kanalml
        import kanalml.api
        import kanalml.scoring
        heavy = [m for m in ("pandas", "sklearn", "scipy", "numpy", "kanalml.artifact",
                             "kanalml.model") if m in sys.modules]
        print(json.dumps({"heavy": heavy, "default_loaded": kanalml.scoring._default is not None,
                          "public": sorted(kanalml.__all__)}))
    """)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["heavy"] == []
    assert report["default_loaded"] is False
    assert {"score", "train", "load_model", "ModelError"} <= set(report["public"])


def test_the_command_line_starts_without_numpy_or_pandas() -> None:
    # `kanalml --help` and argument errors answer at once: the pipeline loads them on first use
    result = run_python("""
        import json, sys
        from kanalml.cli import build_parser
        build_parser()
        print(json.dumps([m for m in ("pandas", "numpy", "scipy") if m in sys.modules]))
    """)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []


# --- load_model ---------------------------------------------------------------------------

def test_default_model_is_cached(default_model) -> None:
    assert kanalml.load_model() is default_model
    assert kanalml.load_model(None) is default_model
    assert default_model.labels_ == DEFAULT_LABELS
    assert default_model.primary == "ekstremisme"
    assert 0.0 < default_model.threshold < 1.0


def test_load_model_with_path_gives_a_new_model(default_model) -> None:
    fresh = kanalml.load_model(default_model_path())
    assert fresh is not default_model
    assert fresh.labels_ == default_model.labels_
    np.testing.assert_array_equal(fresh.predict_proba(MIXED), default_model.predict_proba(MIXED))


def test_model_error_is_exported() -> None:
    from kanalml import ModelError

    assert kanalml.ModelError is ModelError
    assert issubclass(ModelError, Exception)
    with pytest.raises(AttributeError):
        _ = kanalml.no_such_thing


# --- one text -> dict ---------------------------------------------------------------------

def test_single_text_dict(default_model) -> None:
    out = kanalml.score(SLOGAN)
    assert list(out) == ["score", *DEFAULT_LABELS, "category", "flagged"]
    assert isinstance(out["flagged"], bool)
    assert out["score"] == out["ekstremisme"]
    for label in ["score", *DEFAULT_LABELS]:
        assert isinstance(out[label], float)
        assert 0.0 <= out[label] <= 1.0
    assert out["flagged"] == (out["score"] >= default_model.threshold)


def test_single_text_matches_batch(default_model) -> None:
    frame = kanalml.score(MIXED)
    for i, text in enumerate(MIXED):
        one = kanalml.score(text)
        for column in ["score", *DEFAULT_LABELS]:
            assert one[column] == pytest.approx(frame[column].iloc[i], abs=1e-12)
        assert one["flagged"] == bool(frame["flagged"].iloc[i])


def test_single_text_path_equals_batch_exactly(default_model) -> None:
    """score(str) has its own path (Model.predict_one): same values, category and types."""
    frame = kanalml.score(MIXED)
    for i, text in enumerate(MIXED):
        one = kanalml.score(text)
        assert list(one) == list(frame.columns)
        assert [one[c] for c in frame.columns] == frame.iloc[i].tolist()
        assert type(one["score"]) is float and type(one["flagged"]) is bool


def test_explain_evidence_contract() -> None:
    text = "BUBARKAN pemerintah thaghut!!! tegakkan KHILAFAH, dasar K4F1R"
    out = kanalml.score(text, explain=True)
    assert list(out) == ["score", *DEFAULT_LABELS, "category", "flagged", "evidence"]
    evidence = out["evidence"]
    assert isinstance(evidence, list) and evidence
    surface = set(tokenize(text))
    for item in evidence:
        assert isinstance(item, tuple) and len(item) == 2
        word, weight = item
        assert isinstance(word, str) and isinstance(weight, float)
        assert word in surface and word == word.lower()
        assert weight > 0
    weights = [w for _, w in evidence]
    assert weights == sorted(weights, reverse=True)
    assert len({w for w, _ in evidence}) == len(evidence)
    # explain does not change the scores
    plain = kanalml.score(text)
    assert {k: out[k] for k in plain} == plain


def test_explain_uses_surface_words_not_stems(small_model) -> None:
    out = kanalml.score("DASAR K4F1R, bubarkan Th4ghut", model=small_model, explain=True)
    words = [w for w, _ in out["evidence"]]
    assert "k4f1r" in words
    assert "th4ghut" in words
    assert "kafir" not in words and "thaghut" not in words
    assert "bubarkan" in words and "bubar" not in words


def test_evidence_weights_are_positive_even_when_tiny(default_model) -> None:
    # Rounded weights are filtered after rounding: no (word, 0.0) pairs, even for texts whose
    # pull towards the score is spread thin over many words.
    texts = ["sunda " * 3 + "jalan macet hujan deras pagi ini " * 20,
             "khilafah " + "cuaca cerah harga cabai naik " * 30,
             "ok", "🙂🙂🙂", "tidak tidak bukan jangan belum"]
    for text in texts:
        evidence = kanalml.score(text, model=default_model, explain=True)["evidence"]
        assert all(isinstance(w, float) and w > 0 for _, w in evidence), evidence

def test_explain_on_text_without_signal(small_model) -> None:
    out = kanalml.score("", model=small_model, explain=True)
    assert out["evidence"] == []
    out = kanalml.score("!!! ???", model=small_model, explain=True)
    assert out["evidence"] == []


# --- many texts -> DataFrame --------------------------------------------------------------

def _check_frame(frame: pd.DataFrame, model, n: int, explain: bool = False) -> None:
    category = ["category"] if model.categories_ else []
    columns = ["score", *model.labels_, *category, "flagged"] + (["evidence"] if explain else [])
    assert list(frame.columns) == columns
    assert frame[category].isin(model.categories_).all().all()
    assert len(frame) == n
    probs = frame[["score", *model.labels_]].to_numpy()
    assert np.isfinite(probs).all()
    assert ((probs >= 0.0) & (probs <= 1.0)).all()
    assert (frame["score"] == frame[model.primary]).all()
    assert frame["flagged"].dtype == bool
    assert (frame["flagged"] == (frame["score"] >= model.threshold)).all()


@pytest.mark.parametrize("kind", ["list", "tuple", "generator", "ndarray", "series"])
def test_batch_input_types(kind, default_model) -> None:
    make = {
        "list": list,
        "tuple": tuple,
        "generator": lambda xs: (x for x in xs),
        "ndarray": lambda xs: np.array(xs, dtype=object),
        "series": pd.Series,
    }[kind]
    frame = kanalml.score(make(MIXED))
    _check_frame(frame, default_model, len(MIXED))
    assert list(frame.index) == list(range(len(MIXED)))
    expected = pd.DataFrame(default_model.predict_proba(MIXED), columns=DEFAULT_LABELS)
    np.testing.assert_allclose(frame[DEFAULT_LABELS].to_numpy(), expected.to_numpy(),
                               rtol=0, atol=1e-12)


def test_unicode_ndarray(default_model) -> None:
    frame = kanalml.score(np.array(MIXED))  # dtype '<U..', not object
    _check_frame(frame, default_model, len(MIXED))
    pd.testing.assert_frame_equal(frame, kanalml.score(MIXED))


def test_rows_follow_input_order(default_model) -> None:
    forward = kanalml.score(MIXED)
    backward = kanalml.score(MIXED[::-1])
    np.testing.assert_allclose(backward["score"].to_numpy()[::-1], forward["score"].to_numpy(),
                               rtol=0, atol=1e-12)
    scores = forward["score"].to_numpy()
    assert scores[0] > scores[1]  # the slogan's row is the slogan's score


def test_series_keeps_index(default_model) -> None:
    index = pd.Index(["b", "a", 17, "z", "x", "y", "w"], name="post_id")
    series = pd.Series(MIXED, index=index)
    frame = kanalml.score(series, explain=True)
    _check_frame(frame, default_model, len(MIXED), explain=True)
    assert frame.index.equals(index)
    assert frame.loc["b", "score"] == pytest.approx(kanalml.score(SLOGAN)["score"], abs=1e-12)
    assert frame.loc["b", "evidence"] == kanalml.score(SLOGAN, explain=True)["evidence"]


def test_batch_explain_column_matches_single() -> None:
    frame = kanalml.score(MIXED, explain=True)
    for i, text in enumerate(MIXED):
        assert frame["evidence"].iloc[i] == kanalml.score(text, explain=True)["evidence"]


def test_explain_column_with_equal_length_evidence(small_model) -> None:
    # every row has exactly one evidence word: pandas must not turn the lists into a 2-D block
    texts = ["khilafah", "thaghut"]
    frame = kanalml.score(texts, model=small_model, explain=True)
    assert [len(e) for e in frame["evidence"]] == [1, 1]
    assert frame["evidence"].iloc[0][0][0] == "khilafah"


@pytest.mark.parametrize("empty", [[], (), np.array([], dtype=object), pd.Series([], dtype=object)],
                         ids=["list", "tuple", "ndarray", "series"])
@pytest.mark.parametrize("explain", [False, True])
def test_empty_input_gives_empty_frame(empty, explain, default_model) -> None:
    frame = kanalml.score(empty, explain=explain)
    assert isinstance(frame, pd.DataFrame)
    _check_frame(frame, default_model, 0, explain=explain)


def test_empty_generator() -> None:
    frame = kanalml.score(iter(()))
    assert list(frame.columns) == ["score", *DEFAULT_LABELS, "category", "flagged"]
    assert frame.empty


# --- model= -------------------------------------------------------------------------------

def test_model_argument_accepts_model_and_paths(small_model, small_model_dir) -> None:
    by_model = kanalml.score(POSITIVE_LIKE + NEGATIVE_LIKE, model=small_model)
    _check_frame(by_model, small_model, len(POSITIVE_LIKE) + len(NEGATIVE_LIKE))
    assert list(by_model.columns) == ["score", *SMALL_LABELS, "flagged"]
    for model in (small_model_dir, str(small_model_dir)):
        pd.testing.assert_frame_equal(kanalml.score(POSITIVE_LIKE + NEGATIVE_LIKE, model=model),
                                      by_model, check_exact=True)
        single = kanalml.score(SLOGAN, model=model)
        assert list(single) == ["score", *SMALL_LABELS, "flagged"]
    # the default model is untouched by scoring with another one
    assert kanalml.load_model().labels_ == DEFAULT_LABELS


def test_model_argument_missing_path_raises_model_error(tmp_path) -> None:
    with pytest.raises(kanalml.ModelError, match="nowhere"):
        kanalml.score("teks", model=tmp_path / "nowhere")


# --- totality -----------------------------------------------------------------------------

WEIRD_TEXTS = [None, float("nan"), np.nan, 0, 42, 3.5, b"dasar k4f1r", b"\xff\xfe\xc3\x28",
               "", " \t\n ", "!!!???", "💣🔥😀🇮🇩", "\ud800", "ab\udc80cd", "\ud83d\udca3",
               "\x00\x01\x7f", "[quote][quote]"]


def test_batch_of_weird_values(default_model) -> None:
    for explain in (False, True):
        frame = kanalml.score(WEIRD_TEXTS, explain=explain)
        _check_frame(frame, default_model, len(WEIRD_TEXTS), explain=explain)
    frame = kanalml.score(WEIRD_TEXTS)
    empty = kanalml.score("")["score"]
    for i in (0, 1, 2):  # missing values score like an empty post
        assert frame["score"].iloc[i] == pytest.approx(empty, abs=1e-12)
    assert frame["score"].iloc[6] == pytest.approx(kanalml.score("dasar k4f1r")["score"],
                                                   abs=1e-12)
    pd.testing.assert_frame_equal(kanalml.score(WEIRD_TEXTS), frame)  # deterministic


def test_batch_of_random_blobs(default_model) -> None:
    rng = np.random.default_rng(7)
    blobs = [rng.bytes(int(rng.integers(0, 300))) for _ in range(200)]
    texts = blobs + [b.decode("utf-8", errors="surrogateescape") for b in blobs]
    frame = kanalml.score(texts)
    _check_frame(frame, default_model, len(texts))
    pd.testing.assert_frame_equal(kanalml.score(texts), frame)
    fresh = kanalml.score(texts, model=default_model_path())
    pd.testing.assert_frame_equal(fresh, frame)
    for text in texts[len(blobs)::20]:  # single str texts (bytes: see test_bytes_is_one_text)
        assert isinstance(kanalml.score(text, explain=True)["evidence"], list)


@pytest.mark.parametrize("text", ["", " \t\n ", "!!!???", "💣🔥😀", "\ud800", "ab\udc80cd",
                                  "\x00\x01\x7f"],
                         ids=["empty", "whitespace", "punctuation", "emoji", "surrogate",
                              "surrogate-in-word", "control"])
def test_single_weird_strings(text) -> None:
    out = kanalml.score(text, explain=True)
    assert 0.0 <= out["score"] <= 1.0
    assert isinstance(out["evidence"], list)
    assert kanalml.score(text, explain=True) == out


def test_one_megabyte_string() -> None:
    text = ("tegakkan khilafah 💣 dasar k4f1r, cuaca cerah hari ini. " * 20_000)[:1_000_000]
    out = kanalml.score(text, explain=True)
    assert 0.0 <= out["score"] <= 1.0
    assert out["evidence"]
    assert kanalml.score([text, "cuaca cerah"])["score"].iloc[0] == pytest.approx(out["score"])


def test_bytes_is_one_text() -> None:
    # like normalize/tokenize/preprocess, a bytes post is one text (UTF-8), not a batch of ints
    out = kanalml.score(b"dasar k4f1r")
    assert isinstance(out, dict)
    assert out == kanalml.score("dasar k4f1r")
    invalid = b"dasar \xff\xfe k4f1r"
    assert kanalml.score(invalid) == kanalml.score(invalid.decode("utf-8", errors="replace"))


@pytest.mark.parametrize(("value", "as_text"), [(None, ""), (float("nan"), ""), (np.nan, ""),
                                                (42, "42"), (3.5, "3.5")],
                         ids=["None", "nan", "np.nan", "int", "float"])
def test_scalar_non_str_never_raises(value, as_text) -> None:
    out = kanalml.score(value)
    assert out == kanalml.score(as_text)


# --- the default model makes sense --------------------------------------------------------

def test_default_model_ranks_slogan_above_everyday_posts() -> None:
    slogan = kanalml.score(SLOGAN)["score"]
    everyday = kanalml.score(EVERYDAY_POSTS)["score"]
    assert slogan > everyday.max()


def test_default_model_ranks_demo_radical_channels_above_everyday_channels() -> None:
    demo = pd.read_csv(require(DEMO_EXPORT))
    demo["score"] = kanalml.score(demo["text"])["score"]
    radical = demo[demo["channel"].isin(["seruan_alhaq", "kabar_ummah_bangkit"])]["score"]
    everyday = demo[demo["channel"].isin(["garudafans_bola", "pasarwarga_bekasi"])]["score"]
    assert len(radical) == 8 and len(everyday) == 18
    assert radical.mean() > everyday.mean()


def test_hard_negatives_rarely_flagged(default_model) -> None:
    hard = pd.read_csv(require(HARD_NEGATIVES))
    assert list(hard.columns) == ["id", "kind", "text"] and len(hard) == 100
    flagged = kanalml.score(hard["text"])["flagged"].to_numpy()
    by_kind = {}
    for kind in sorted(hard["kind"].unique()):
        rows = (hard["kind"] == kind).to_numpy()
        by_kind[kind] = f"{int(flagged[rows].sum())}/{int(rows.sum())}"
    rate = flagged.mean()
    assert rate <= 0.05, (f"{flagged.sum()}/{len(flagged)} hard negatives flagged "
                          f"(rate {rate:.2f}, target <= 0.05; by kind {by_kind}; "
                          f"threshold {default_model.threshold:.3f})")


# --- threads ------------------------------------------------------------------------------

def thread_texts(seed: int = 3) -> list[str]:
    """Posts with many tokens the model has never seen, so scoring must stem them."""
    rng = np.random.default_rng(seed)
    roots = ["khilafah", "thaghut", "kafir", "jihad", "syahid", "bubar", "tegak", "juang",
             "cuaca", "hujan", "macet", "jalan", "makan", "pasar", "harga", "sekolah"]
    prefixes = ["", "di", "me", "mem", "pe", "ber", "ter", "ke", "per", "se"]
    suffixes = ["", "kan", "nya", "an", "lah", "kah", "i", "kannya", "anlah"]
    leet = str.maketrans({"a": "4", "i": "1", "o": "0", "e": "3"})
    texts = []
    for i in range(240):
        words = []
        for _ in range(int(rng.integers(3, 12))):
            word = rng.choice(prefixes) + rng.choice(roots) + rng.choice(suffixes)
            if rng.random() < 0.2:
                word = word.translate(leet)
            if rng.random() < 0.1:
                word = word[:2] + word[2] * 4 + word[3:]
            words.append(word)
        texts.append(" ".join(words) + (" 💣" if i % 7 == 0 else ""))
    return texts


def _concurrent_scores(model, batches, explain_every: int = 3):
    barrier = threading.Barrier(len(batches))
    results: list = [None] * len(batches)
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            barrier.wait()
            results[k] = [kanalml.score(batch, model=model, explain=(j % explain_every == 0))
                          for j, batch in enumerate(batches[k])]
        except BaseException as exc:  # re-raised in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(batches))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


def test_threads_on_cold_model_match_serial() -> None:
    texts = thread_texts()
    hard = HARD_NEGATIVES
    if hard.is_file():
        texts += pd.read_csv(hard)["text"].tolist()
    # 8 threads, each scoring 4 overlapping windows of the same texts
    step = len(texts) // 16
    batches = [[texts[(k + 2 * j) * step:(k + 2 * j) * step + 4 * step] for j in range(4)]
               for k in range(8)]
    cold = kanalml.load_model(default_model_path())
    concurrent = _concurrent_scores(cold, batches)
    serial_model = kanalml.load_model(default_model_path())
    for k in range(8):
        for j, batch in enumerate(batches[k]):
            expected = kanalml.score(batch, model=serial_model, explain=(j % 3 == 0))
            pd.testing.assert_frame_equal(concurrent[k][j], expected, check_exact=True)


def test_threads_in_fresh_process_match_serial() -> None:
    # A new interpreter: word lists, stemmer and model caches all start cold.
    result = run_python(f"""
        import json, threading
        import numpy as np
        import kanalml
        from kanalml.api import default_model_path

        texts = {thread_texts(11)!r}
        batches = [texts[k * 20:k * 20 + 80] for k in range(8)]
        model = kanalml.load_model(default_model_path())
        barrier = threading.Barrier(8)
        out = [None] * 8
        def work(k):
            barrier.wait()
            out[k] = kanalml.score(batches[k], model=model, explain=True)
        threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
        for t in threads: t.start()
        for t in threads: t.join()
        serial = kanalml.load_model(default_model_path())
        bad = 0
        for k in range(8):
            ref = kanalml.score(batches[k], model=serial, explain=True)
            same = (out[k] is not None and ref.drop(columns="evidence").equals(
                        out[k].drop(columns="evidence"))
                    and ref["evidence"].tolist() == out[k]["evidence"].tolist())
            bad += not same
        print(json.dumps({{"mismatched_batches": bad}}))
    """)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"mismatched_batches": 0}


def test_first_use_of_default_model_from_many_threads() -> None:
    # Cold process: 8 threads make the first calls at once; one default model is loaded and
    # every thread gets the serial answer.
    result = run_python(f"""
        import json, threading
        import kanalml

        texts = {thread_texts(5)[:60]!r}
        barrier = threading.Barrier(8)
        models, frames = [None] * 8, [None] * 8
        def work(k):
            barrier.wait()
            frames[k] = kanalml.score(texts[k * 5:k * 5 + 30])
            models[k] = id(kanalml.load_model())
        threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
        for t in threads: t.start()
        for t in threads: t.join()
        same = [frames[k] is not None and frames[k].equals(kanalml.score(texts[k * 5:k * 5 + 30]))
                for k in range(8)]
        print(json.dumps({{"models": len(set(models)), "same": same}}))
    """)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"models": 1, "same": [True] * 8}


def test_a_pickled_model_scores_the_same_without_its_caches(default_model) -> None:
    """What a Dask cluster does when a Model object is scattered to its workers."""
    import pickle

    texts = ["Bubarkan pemerintah thaghut, tegakkan khilafah!", "harga cabai naik lagi",
             "kata baru yg blm pernah dilihat: zxqvbn"]
    expected = default_model.predict_proba(texts)  # fills the caches
    copy = pickle.loads(pickle.dumps(default_model))
    assert copy.featurizer_.preprocessor_._extra == {}
    np.testing.assert_array_equal(copy.predict_proba(texts), expected)
    assert copy.explain(texts[0]) == default_model.explain(texts[0])


# --- containers that are not a batch of texts -----------------------------------------------

@pytest.mark.parametrize("texts, needle", [
    (pd.DataFrame({"text": [SLOGAN, "cuaca cerah"], "channel": ["a", "b"]}),
     "score(frame['text'])"),
    ({"p1": SLOGAN, "p2": "cuaca cerah"}, "score(list(posts.values()))"),
    (np.array([[SLOGAN, "cuaca cerah"]]), "score(array[:, 0])"),
    (np.array([[[SLOGAN]]], dtype=object), "3-D array"),
], ids=["DataFrame", "dict", "2-D", "3-D"])
def test_score_refuses_containers_whose_items_are_not_texts(texts, needle) -> None:
    with pytest.raises(TypeError) as info:
        kanalml.score(texts)
    assert needle in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(TypeError):
        kanalml.score(texts, explain=True)


def test_the_suggested_fixes_score_the_texts(default_model) -> None:
    frame = pd.DataFrame({"text": [SLOGAN, "cuaca cerah"]})
    expected = kanalml.score([SLOGAN, "cuaca cerah"])
    pd.testing.assert_frame_equal(kanalml.score(frame["text"]), expected)
    pd.testing.assert_frame_equal(kanalml.score(list({"a": SLOGAN, "b": "cuaca cerah"}.values())),
                                  expected)
    pd.testing.assert_frame_equal(kanalml.score(np.array([[SLOGAN], ["cuaca cerah"]])[:, 0]),
                                  expected)
    assert kanalml.score(np.array(SLOGAN)) == kanalml.score(SLOGAN)  # 0-D: one text


def test_posts_longer_than_the_cap_are_scored_on_their_beginning(default_model) -> None:
    from kanalml.api import MAX_TEXT_CHARS

    head = ("cuaca cerah hari ini, jalan macet. " * 3000)[:MAX_TEXT_CHARS]
    long = head + " tegakkan khilafah, bubarkan thaghut" * 100
    assert MAX_TEXT_CHARS == 100_000  # the README documents this figure
    assert kanalml.score(long, explain=True) == kanalml.score(head, explain=True)
    frame = kanalml.score([long, "cuaca cerah"])
    assert frame["score"].iloc[0] == kanalml.score(head)["score"]
    assert kanalml.score(long[:MAX_TEXT_CHARS - 1]) != kanalml.score(long)

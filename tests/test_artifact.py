"""Model.save / kanalml.load_model: exact round trips, metadata, and refusing bad artifacts."""

from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sklearn
from conftest import NEGATIVE_LIKE, POSITIVE_LIKE, SMALL_LABELS, make_corpus

import kanalml
from kanalml.api import default_model_path

ModelError = kanalml.ModelError
PROBE = [*POSITIVE_LIKE, *NEGATIVE_LIKE, "kata baru yang belum pernah dilihat model",
         "dasar k4f1r!!! bubarkaaan th4ghut 💣", "", None, "\ud800", "#BubarkanPKI"]
FILES = ["char_vocabulary.json", "manifest.json", "metadata.json", "stems.json", "tables.json",
         "tables.npz", "training_keys.json", "vocabulary.json", "weights.npz"]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rehash(directory: Path) -> None:
    """Rewrite the manifest so that it matches the files as they are now."""
    manifest = json.loads((directory / "manifest.json").read_text())
    manifest["files"] = {name: sha256(directory / name) for name in manifest["files"]}
    (directory / "manifest.json").write_text(json.dumps(manifest))


def edit_json(path: Path, change) -> None:
    """Apply ``change`` (which edits the parsed object in place) to a JSON file."""
    obj = json.loads(path.read_text(encoding="utf-8"))
    change(obj)
    path.write_text(json.dumps(obj, ensure_ascii=False), encoding="utf-8")


def load_fails(directory: Path, offending: Path) -> ModelError:
    with pytest.raises(ModelError) as info:
        kanalml.load_model(directory)
    message = str(info.value)
    names_it = str(offending) in message or (
        str(offending.parent) in message and offending.name in message)
    assert names_it, f"message does not name {offending}: {message}"
    return info.value


def assert_same_predictions(a, b, texts=PROBE) -> None:
    np.testing.assert_array_equal(a.decision_function(texts), b.decision_function(texts))
    np.testing.assert_array_equal(a.predict_proba(texts), b.predict_proba(texts))
    for text in texts:
        assert a.explain(text) == b.explain(text)


# --- round trip ---------------------------------------------------------------------------

def test_round_trip_is_bit_identical(small_model, small_model_dir) -> None:
    loaded = kanalml.load_model(small_model_dir)
    assert loaded.labels_ == small_model.labels_
    assert loaded.threshold == small_model.threshold
    np.testing.assert_array_equal(loaded.thresholds_, small_model.thresholds_)
    assert loaded.featurizer_.vocabulary_ == small_model.featurizer_.vocabulary_
    assert loaded.featurizer_.get_params() == small_model.featurizer_.get_params()
    assert loaded.featurizer_.preprocessor_.stem_table_ == \
        small_model.featurizer_.preprocessor_.stem_table_
    assert_same_predictions(loaded, small_model)
    pd.testing.assert_frame_equal(kanalml.score(PROBE, model=loaded, explain=True),
                                  kanalml.score(PROBE, model=small_model, explain=True),
                                  check_exact=True)


def test_resaving_the_default_model_is_bit_identical(default_model, tmp_path) -> None:
    fresh = kanalml.load_model(default_model_path())
    target = fresh.save(tmp_path / "copy")
    again = kanalml.load_model(target)
    assert again.metadata_["labels"] == default_model.labels_
    assert again.metadata_["training_sha256"] == default_model.metadata_["training_sha256"]
    assert_same_predictions(again, default_model)


def test_save_returns_the_directory_and_writes_only_plain_files(small_model_dir) -> None:
    assert small_model_dir.is_dir()
    assert sorted(p.name for p in small_model_dir.iterdir()) == FILES
    for name in FILES:
        if name.endswith(".json"):
            json.loads((small_model_dir / name).read_text(encoding="utf-8"))
    with np.load(small_model_dir / "weights.npz", allow_pickle=False) as npz:
        assert sorted(npz.files) == ["calibration", "intercept", "thresholds", "weights"]
        assert all(npz[name].dtype == np.float64 for name in npz.files)
    with np.load(small_model_dir / "tables.npz", allow_pickle=False) as npz:
        assert {"unigram", "bigram_keys", "cross_columns"} <= set(npz.files)
        assert all(npz[name].dtype in (np.int32, np.int64) for name in npz.files)
    # Stored as they are, each member's data at a multiple of 64 bytes: read in place.
    for name in ("weights.npz", "tables.npz"):
        data = (small_model_dir / name).read_bytes()
        with zipfile.ZipFile(small_model_dir / name) as archive:
            for info in archive.infolist():
                assert info.compress_type == zipfile.ZIP_STORED
                at = info.header_offset
                start = at + 30 + int.from_bytes(data[at + 26:at + 28], "little") \
                    + int.from_bytes(data[at + 28:at + 30], "little")
                header = np.lib.format.read_magic(io.BytesIO(data[start:start + 10]))
                assert header == (1, 0)
                header_length = 10 + int.from_bytes(data[start + 8:start + 10], "little")
                assert (start + header_length) % 64 == 0, (name, info.filename)
    # no temporary directories left next to it
    assert [p.name for p in small_model_dir.parent.iterdir()] == ["small"]


def test_a_loaded_model_still_knows_its_training_posts(small_model, small_model_dir,
                                                       corpus) -> None:
    from kanalml.evaluation import training_overlap

    texts, _ = corpus
    loaded = kanalml.load_model(small_model_dir)
    assert loaded.metadata_["training_keys"] == small_model.metadata_["training_keys"]
    assert training_overlap(loaded, texts) == len(texts)
    assert "training_keys" not in json.loads((small_model_dir / "metadata.json").read_text())


def test_manifest_lists_every_file_with_its_sha256(small_model_dir) -> None:
    manifest = json.loads((small_model_dir / "manifest.json").read_text())
    assert manifest["format"] == "kanalml-model"
    assert manifest["format_version"] == 2
    assert sorted(manifest["files"]) == [n for n in FILES if n != "manifest.json"]
    for name, digest in manifest["files"].items():
        assert digest == sha256(small_model_dir / name)


def test_saved_metadata(small_model, small_model_dir, corpus) -> None:
    texts, labels = corpus
    meta = json.loads((small_model_dir / "metadata.json").read_text(encoding="utf-8"))
    assert meta["labels"] == SMALL_LABELS
    assert set(meta["thresholds"]) == set(SMALL_LABELS)
    for k, label in enumerate(SMALL_LABELS):
        assert meta["thresholds"][label] == pytest.approx(small_model.thresholds_[k], abs=1e-6)
    assert meta["training_rows"] == len(texts)
    assert re.fullmatch(r"[0-9a-f]{64}", meta["training_sha256"])
    assert meta["training_sha256"] == small_model.metadata_["training_sha256"]
    assert meta["cv"]["folds"] == 3
    assert set(meta["cv"]["metrics"]) == set(SMALL_LABELS)
    for label in SMALL_LABELS:
        metrics = meta["cv"]["metrics"][label]
        assert {"average_precision", "roc_auc", "precision", "recall"} <= set(metrics)
        assert metrics["positives"] == int(labels[label].sum())
    created = pd.Timestamp(meta["created"])
    assert created.tzinfo is not None and created.year >= 2024
    assert meta["kanalml_version"] == kanalml.__version__
    assert meta["sklearn_version"] == sklearn.__version__


def test_card_is_saved_and_listed(small_model, tmp_path) -> None:
    target = small_model.save(tmp_path / "with_card", card="# kartu model\n")
    assert (target / "README.md").read_text(encoding="utf-8") == "# kartu model\n"
    manifest = json.loads((target / "manifest.json").read_text())
    assert manifest["files"]["README.md"] == sha256(target / "README.md")
    assert_same_predictions(kanalml.load_model(target), small_model)


def test_save_into_empty_existing_directory(small_model, tmp_path) -> None:
    (tmp_path / "empty").mkdir()
    target = small_model.save(tmp_path / "empty")
    assert_same_predictions(kanalml.load_model(target), small_model, PROBE[:4])


def test_save_refuses_a_non_empty_directory(small_model, small_model_dir, tmp_path) -> None:
    # The user's path, not a model, is wrong: a DataError, as for every new output directory.
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("keep me")
    with pytest.raises(kanalml.DataError, match="busy"):
        small_model.save(tmp_path / "busy")
    assert (tmp_path / "busy" / "notes.txt").read_text() == "keep me"
    with pytest.raises(kanalml.DataError):
        small_model.save(small_model_dir)
    (tmp_path / "a-file").write_text("")
    with pytest.raises(kanalml.DataError, match="a-file"):
        small_model.save(tmp_path / "a-file")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "busy"]


def test_model_trained_on_messy_texts_round_trips(tmp_path) -> None:
    texts, labels = make_corpus(seed=1)
    messy = ["\ud800 tegakkan khilafah 💣", "ab\udc80cd cuaca cerah",
             "ｂｏｍ 𝐤𝐚𝐟𝐢𝐫 #KhilafahSolusi",
             "[quote=x]kutipan[/quote] \\n balasan &amp; jawaban", "😀😀😀", ""]
    texts = texts[: -len(messy)] + messy
    model = kanalml.train(texts, pd.DataFrame(labels), folds=3, random_state=0)
    loaded = kanalml.load_model(model.save(tmp_path / "messy"))
    assert_same_predictions(loaded, model, PROBE + messy)


# --- refusing bad artifacts ---------------------------------------------------------------

def test_missing_directory(tmp_path) -> None:
    load_fails(tmp_path / "no_such_model", tmp_path / "no_such_model")


def test_path_is_a_file(model_copy) -> None:
    load_fails(model_copy / "weights.npz", model_copy / "weights.npz")


def test_missing_manifest(model_copy) -> None:
    (model_copy / "manifest.json").unlink()
    load_fails(model_copy, model_copy / "manifest.json")


def test_directory_that_is_not_a_model(tmp_path) -> None:
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "cat.jpg").write_bytes(b"\xff\xd8\xff")
    load_fails(tmp_path / "photos", tmp_path / "photos" / "manifest.json")


@pytest.mark.parametrize("keep", [0, 100, -1], ids=["empty", "first-100-bytes", "minus-1-byte"])
def test_truncated_weights(model_copy, keep) -> None:
    path = model_copy / "weights.npz"
    data = path.read_bytes()
    path.write_bytes(data[:keep])
    error = load_fails(model_copy, path)
    assert "SHA-256" in str(error)


def test_corrupted_weights_byte_flip(model_copy) -> None:
    path = model_copy / "weights.npz"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    load_fails(model_copy, path)


@pytest.mark.parametrize("name", ["vocabulary.json", "char_vocabulary.json", "stems.json",
                                  "metadata.json"])
def test_edited_json_files(model_copy, name) -> None:
    path = model_copy / name
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("\n", "\n ", 1), encoding="utf-8")  # whitespace is an edit too
    load_fails(model_copy, path)


def test_swapped_vocabulary_entries(model_copy) -> None:
    path = model_copy / "vocabulary.json"
    edit_json(path, lambda v: v.insert(0, v.pop(1)))
    load_fails(model_copy, path)


def test_listed_file_missing(model_copy) -> None:
    (model_copy / "stems.json").unlink()
    load_fails(model_copy, model_copy / "stems.json")


def test_invalid_json_manifest(model_copy) -> None:
    path = model_copy / "manifest.json"
    path.write_text('{"format": "kanalml-model", ')
    load_fails(model_copy, path)


@pytest.mark.parametrize("content", [b"\xff\xfe{}", b"", b"null", b"[1, 2]", b'"text"'],
                         ids=["binary", "empty", "null", "list", "string"])
def test_manifest_that_is_not_an_object(model_copy, content) -> None:
    path = model_copy / "manifest.json"
    path.write_bytes(content)
    load_fails(model_copy, path)


@pytest.mark.parametrize("version", [3, 0, "1", "2", None, 1.5, 2.0, True])
def test_unsupported_format_version(model_copy, version) -> None:
    path = model_copy / "manifest.json"
    edit_json(path, lambda m: m.update(format_version=version))
    error = load_fails(model_copy, path)
    assert "version" in str(error)


def test_foreign_format(model_copy) -> None:
    path = model_copy / "manifest.json"
    edit_json(path, lambda m: m.update(format="onnx-model"))
    load_fails(model_copy, path)


def test_manifest_without_file_list(model_copy) -> None:
    path = model_copy / "manifest.json"
    edit_json(path, lambda m: m.pop("files"))
    load_fails(model_copy, path)


def test_manifest_missing_a_required_file(model_copy) -> None:
    path = model_copy / "manifest.json"
    edit_json(path, lambda m: m["files"].pop("stems.json"))
    error = load_fails(model_copy, path)
    assert "stems.json" in str(error)


@pytest.mark.parametrize("name", ["../outside.json", "/etc/hostname", "sub/inner.json"])
def test_manifest_naming_a_file_outside_the_model(model_copy, name) -> None:
    outside = model_copy.parent / "outside.json"
    outside.write_text("{}")
    (model_copy / "sub").mkdir()
    (model_copy / "sub" / "inner.json").write_text("{}")
    path = model_copy / "manifest.json"
    edit_json(path, lambda m: m["files"].update({name: sha256(outside)}))
    with pytest.raises(ModelError, match=re.escape(name)):
        kanalml.load_model(model_copy)


@pytest.mark.parametrize("name", ["evil.pkl", "weights.npy", "model.joblib"])
def test_foreign_file_in_model_directory(model_copy, name) -> None:
    # A file the manifest does not list does not belong to the artifact: refuse it, naming it.
    (model_copy / name).write_bytes(b"\x80\x04K\x01.")
    load_fails(model_copy, model_copy / name)


# Files edited *and* re-listed in the manifest with their new SHA-256 (a buggy writer, or
# a hand edit): the content checks must still answer with a ModelError naming the file.

def _npz(compressed: bool = False, **arrays) -> bytes:
    buffer = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buffer, **arrays)
    return buffer.getvalue()


def _weights(directory: Path) -> dict[str, np.ndarray]:
    with np.load(directory / "weights.npz", allow_pickle=False) as npz:
        return {name: npz[name] for name in npz.files}


REHASHED_WEIGHTS = {
    "truncated": lambda d: (d / "weights.npz").read_bytes()[:200],
    "zip-header-then-zeros": lambda d: b"PK\x03\x04" + bytes(300),
    "random-bytes": lambda d: np.random.default_rng(0).bytes(500),
    "npy-not-npz": lambda d: _npy(np.zeros(3)),
    "object-array": lambda d: _npz(**{**_weights(d),
                                      "weights": np.array([{"a": 1}], dtype=object)}),
    "array-missing": lambda d: _npz(**{k: v for k, v in _weights(d).items() if k != "intercept"}),
    "wrong-shape": lambda d: _npz(**{**_weights(d), "weights": np.zeros((3, 3))}),
    "integer-dtype": lambda d: _npz(**{**_weights(d),
                                       "intercept": np.zeros(len(SMALL_LABELS), dtype=int)}),
    "empty-zip": lambda d: _empty_zip(),
    "nan-weights": lambda d: _npz(**{**_weights(d), "weights": _weights(d)["weights"] * np.nan}),
    "deflated": lambda d: _npz(compressed=True, **_weights(d)),
    "fortran-order": lambda d: _npz(**{**_weights(d),
                                       "weights": np.asfortranarray(_weights(d)["weights"])}),
    "one-feature-short": lambda d: _npz(**{**_weights(d), "weights": _weights(d)["weights"][1:]}),
    "nan-threshold": lambda d: _npz(**{**_weights(d),
                                       "thresholds": np.full(len(SMALL_LABELS), np.nan)}),
    "infinite-intercept": lambda d: _npz(**{**_weights(d),
                                            "intercept": np.full(len(SMALL_LABELS), np.inf)}),
    "header-claims-10^13-elements": lambda d: _lying_header(d),
    "zip-bomb": lambda d: _zip_bomb(d),
}


def _lying_header(directory: Path) -> bytes:
    """An npz whose weights header claims 10^13 float64s (80 TB) over a few real bytes."""
    real = _npy(_weights(directory)["weights"])
    header = np.lib.format.header_data_from_array_1_0(np.zeros(1))
    header["shape"] = (10**13,)
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, header)
    lying = buffer.getvalue() + real[-4096:]
    arrays = {k: _npy(v) for k, v in _weights(directory).items() if k != "weights"}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("weights.npy", lying)
        for name, data in arrays.items():
            archive.writestr(f"{name}.npy", data)
    return out.getvalue()


def _zip_bomb(directory: Path) -> bytes:
    """2 GB of zeros in a small deflated member named like the weights."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("weights.npy", "w", force_zip64=True) as member:
            block = bytes(1 << 24)
            for _ in range(128):
                member.write(block)
        for name, array in _weights(directory).items():
            if name != "weights":
                archive.writestr(f"{name}.npy", _npy(array))
    return out.getvalue()


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _empty_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w"):
        pass
    return buffer.getvalue()


@pytest.mark.parametrize("make", REHASHED_WEIGHTS.values(), ids=REHASHED_WEIGHTS.keys())
def test_rehashed_bad_weights(model_copy, make) -> None:
    path = model_copy / "weights.npz"
    content = make(model_copy)
    path.write_bytes(content)
    rehash(model_copy)
    # Refused fast and small: nothing the file claims is allocated or inflated first.
    code = ("import resource, time, kanalml, kanalml.model\n"
            "rss = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
            "before, t = rss(), time.process_time()\n"
            f"try:\n    kanalml.load_model({str(model_copy)!r})\n"
            "except kanalml.ModelError as e:\n"
            f"    print(time.process_time() - t, rss() - before, {path.name!r} in str(e))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    seconds, grown_kb, named = done.stdout.split()
    assert named == "True", done.stdout + done.stderr
    assert float(seconds) < 1.0 and int(grown_kb) < 200_000
    load_fails(model_copy, path)


@pytest.mark.parametrize(("change", "word"), [
    (lambda m: m["featurizer"].update(char_ngrams=[1, 10000]), "char_ngrams"),
    (lambda m: m["featurizer"].update(ngram_max=7), "ngram_max"),
    (lambda m: m["featurizer"].update(min_df=0), "min_df"),
    (lambda m: m["featurizer"].update(word_weight=float("nan")), "word_weight"),
    (lambda m: m["featurizer"].update(exec="os.system"), "exec"),
    (lambda m: m.update(labels=["radikalisme", "radikalisme"]), "distinct"),
    (lambda m: m.update(labels=[]), "no labels"),
    (lambda m: m.update(categories=["a", "a"]), "distinct"),
], ids=["char-ngrams", "ngram-max", "min-df", "word-weight-nan", "unknown-param",
        "duplicate-labels", "no-labels", "duplicate-categories"])
def test_rehashed_bad_parameters(model_copy, change, word) -> None:
    edit_json(model_copy / "metadata.json", change)
    rehash(model_copy)
    with pytest.raises(ModelError, match=word):
        kanalml.load_model(model_copy)


REHASHED_JSON = {
    "metadata-invalid-json": ("metadata.json", "{not json"),
    "metadata-not-utf8": ("metadata.json", "\udcff"),
    "metadata-a-list": ("metadata.json", "[]"),
    "metadata-without-labels": ("metadata.json", None),
    "metadata-deeply-nested": ("metadata.json", "[" * 100_000 + "]" * 100_000),
    "vocabulary-too-short": ("vocabulary.json", '["kafir"]'),
    "vocabulary-invalid-json": ("vocabulary.json", '["kafir", '),
    "stems-a-list": ("stems.json", "[1, 2, 3]"),
    "stems-invalid-json": ("stems.json", '{"a": '),
    "stems-without-tokens": ("stems.json", '{"forms": [], "stems": []}'),
    "stems-not-strings": ("stems.json", '{"tokens": ["a"], "forms": [1], "stems": [""]}'),
    "stems-nested": ("stems.json", '{"tokens": ["a"], "forms": ["a"], "stems": [["b"]]}'),
    "stems-lengths-differ": ("stems.json", '{"tokens": ["a", "b"], "forms": ["a"], '
                                           '"stems": ["a"]}'),
    "tables-a-list": ("tables.json", "[]"),
    "tables-words-not-a-count": ("tables.json", None),
}


@pytest.mark.parametrize(("name", "content"), REHASHED_JSON.values(), ids=REHASHED_JSON.keys())
def test_rehashed_bad_json(model_copy, name, content) -> None:
    path = model_copy / name
    if content is None and name == "tables.json":
        edit_json(path, lambda m: m.update(words=str(m["words"])))
    elif content is None:
        edit_json(path, lambda m: m.pop("labels"))
    elif content == "\udcff":
        path.write_bytes(b"\xff\xfe\x00")
    else:
        path.write_text(content, encoding="utf-8")
    rehash(model_copy)
    with pytest.raises(ModelError) as info:
        kanalml.load_model(model_copy)
    # the message names the file, or at least the model directory for cross-file inconsistency
    assert str(path) in str(info.value) or str(model_copy) in str(info.value)


def test_scoring_with_a_bad_artifact_raises_model_error(model_copy) -> None:
    (model_copy / "vocabulary.json").write_text("[]")
    with pytest.raises(ModelError, match=r"vocabulary\.json"):
        kanalml.score("tegakkan khilafah", model=model_copy)
    with pytest.raises(ModelError, match=r"vocabulary\.json"):
        kanalml.score(["tegakkan khilafah"], model=str(model_copy))


# --- crafted artifacts: an attacker who can write the files *and* the manifest -------------

class _Payload:
    """Unpickling this would create the file ``marker`` (the stand-in for arbitrary code)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def _pickled_npz(directory: Path, marker: Path) -> bytes:
    weights = _weights(directory)
    evil = np.empty(1, dtype=object)
    evil[0] = _Payload(marker)
    buffer = io.BytesIO()
    np.savez(buffer, **{**weights, "weights": evil}, allow_pickle=True)
    return buffer.getvalue()


def test_pickle_payload_in_weights_is_refused_without_running(model_copy, tmp_path) -> None:
    marker = tmp_path / "code-ran"
    path = model_copy / "weights.npz"
    path.write_bytes(_pickled_npz(model_copy, marker))
    rehash(model_copy)
    # the payload is live: numpy with pickles allowed would run it
    with np.load(path, allow_pickle=True) as npz:
        npz["weights"]
    assert marker.exists()
    marker.unlink()

    load_fails(model_copy, path)
    with pytest.raises(ModelError):
        kanalml.score(["tegakkan khilafah"], model=model_copy)
    assert not marker.exists()


@pytest.mark.parametrize("name", ["model.pkl", "model.joblib", "pipeline.skops", "hook.py"])
def test_extra_file_listed_in_a_rewritten_manifest_is_refused(model_copy, tmp_path,
                                                               name) -> None:
    import pickle

    marker = tmp_path / "code-ran"
    (model_copy / name).write_bytes(pickle.dumps(_Payload(marker)))
    manifest = json.loads((model_copy / "manifest.json").read_text())
    manifest["files"][name] = ""
    (model_copy / "manifest.json").write_text(json.dumps(manifest))
    rehash(model_copy)
    with pytest.raises(ModelError, match=re.escape(name)):
        kanalml.load_model(model_copy)
    assert not marker.exists()


def test_pickled_scikit_learn_model_directory_is_not_a_model(tmp_path) -> None:
    import pickle

    marker = tmp_path / "code-ran"
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "model.pkl").write_bytes(pickle.dumps(_Payload(marker)))
    with pytest.raises(ModelError, match="not a kanalml model"):
        kanalml.load_model(foreign)
    assert not marker.exists()


def test_symlinked_model_file_is_refused(model_copy, tmp_path) -> None:
    outside = tmp_path / "outside.json"
    outside.write_bytes((model_copy / "vocabulary.json").read_bytes())
    (model_copy / "vocabulary.json").unlink()
    (model_copy / "vocabulary.json").symlink_to(outside)
    rehash(model_copy)
    load_fails(model_copy, model_copy / "vocabulary.json")


def test_symlinked_manifest_is_refused(model_copy, tmp_path) -> None:
    outside = tmp_path / "manifest.json"
    (model_copy / "manifest.json").rename(outside)
    (model_copy / "manifest.json").symlink_to(outside)
    error = load_fails(model_copy, model_copy / "manifest.json")
    assert "symbolic link" in str(error)


def _measured_load(directory: Path) -> tuple[str, float, int]:
    """(ModelError message, CPU seconds, kB of peak memory grown) of loading in a new process."""
    code = ("import resource, time, kanalml, kanalml.model\n"
            "rss = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
            "before, t = rss(), time.process_time()\n"
            f"try:\n    kanalml.model.Model.load({str(directory)!r})\n"
            "except kanalml.ModelError as e:\n"
            "    print(time.process_time() - t, rss() - before, str(e))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    seconds, grown_kb, message = done.stdout.split(" ", 2)
    return message.strip(), float(seconds), int(grown_kb)


def _vocabulary_of_10m(directory: Path) -> None:
    with open(directory / "vocabulary.json", "w") as f:
        f.write("[" + ",".join(['"ab"'] * 10_000_000) + "]")


def _manifest_of_40mb(directory: Path) -> None:
    rehash(directory)
    manifest = json.loads((directory / "manifest.json").read_text())
    manifest["padding"] = [{}] * 10_000_000
    (directory / "manifest.json").write_text(json.dumps(manifest))


def _metadata_of_40mb(directory: Path) -> None:
    edit_json(directory / "metadata.json", lambda m: m.update(padding=[{}] * 10_000_000))


@pytest.mark.parametrize("damage, offending, says", [
    (_vocabulary_of_10m, "vocabulary.json", "bytes, over the"),
    (_manifest_of_40mb, "manifest.json", "over 1,048,576 bytes"),
    (_metadata_of_40mb, "metadata.json", "bytes, over the"),
], ids=["vocabulary-10M-entries", "manifest-40MB", "metadata-40MB"])
def test_oversized_json_is_refused_before_it_is_parsed(model_copy, damage, offending,
                                                       says) -> None:
    damage(model_copy)
    if offending != "manifest.json":
        rehash(model_copy)
    message, seconds, grown_kb = _measured_load(model_copy)
    assert str(model_copy / offending) in message and says in message, message
    assert seconds < 1.0 and grown_kb < 200_000, (seconds, grown_kb)


def test_a_vocabulary_with_more_strings_than_weights_is_refused_unparsed(model_copy) -> None:
    words = json.loads((model_copy / "vocabulary.json").read_text())
    # within the byte budget, but 50x the strings the weights have rows for
    (model_copy / "vocabulary.json").write_text(json.dumps(["x"] * (len(words) * 50)))
    rehash(model_copy)
    message, seconds, grown_kb = _measured_load(model_copy)
    assert "vocabulary.json: holds" in message and "more than the" in message, message
    assert seconds < 1.0 and grown_kb < 200_000


# --- the bundle format on its own: it knows no Model ----------------------------------------

def test_artifact_imports_no_model() -> None:
    code = ("import sys, kanalml.artifact\n"
            "print(sorted(m for m in sys.modules if m.startswith('kanalml.')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=120)
    assert "kanalml.model" not in done.stdout and "kanalml.features" not in done.stdout


def test_bundle_round_trip_of_documents_texts_and_arrays(tmp_path) -> None:
    from kanalml import artifact

    layout = artifact.Layout("test-bundle", 3, required=("doc.json", "a.npz"),
                             optional=("notes.md",), noun="test bundle")
    weights = np.arange(6, dtype=np.float64).reshape(2, 3)
    target = artifact.write(tmp_path / "b", layout, documents={"doc.json": {"k": ["é"]}},
                            texts={"notes.md": "# hi\n"}, arrays={"a.npz": {"w": weights}})
    manifest = json.loads((target / "manifest.json").read_text())
    assert manifest["format"] == "test-bundle" and manifest["format_version"] == 3
    bundle = artifact.read(target, layout)
    assert "notes.md" in bundle and bundle.text("notes.md") == "# hi\n"
    assert bundle.object("doc.json") == {"k": ["é"]}
    np.testing.assert_array_equal(bundle.arrays("a.npz", {"w": (2, 3)})["w"], weights)
    with pytest.raises(ModelError, match="expected a list of strings"):
        bundle.strings("doc.json")
    with pytest.raises(ModelError, match=r"shape \(2, 3\).*expected \(3, 2\)"):
        bundle.arrays("a.npz", {"w": (3, 2)})
    # another kind of bundle is not this one
    other = artifact.Layout("kanalml-model", 1, required=("doc.json",))
    with pytest.raises(ModelError, match="not a bundle manifest"):
        artifact.read(target, other)


def test_bundle_writer_refuses_files_outside_its_layout(tmp_path) -> None:
    from kanalml import artifact

    layout = artifact.Layout("test-bundle", 1, required=("doc.json",))
    for documents in ({}, {"doc.json": 1, "extra.json": 2}, {"doc.json": 1, "manifest.json": 2}):
        with pytest.raises(ValueError, match=r"is doc\.json; got"):
            artifact.write(tmp_path / "b", layout, documents=documents)
    assert not (tmp_path / "b").exists()


# --- format 2: tables read in place, checked before use; format 1 still loads ---------------

def _tables(directory: Path) -> dict[str, np.ndarray]:
    with np.load(directory / "tables.npz", allow_pickle=False) as npz:
        return {name: npz[name] for name in npz.files}


def _with_table(name: str, change) -> object:
    def make(directory: Path) -> bytes:
        tables = _tables(directory)
        tables[name] = change(tables[name], json.loads((directory / "tables.json").read_text()))
        return _npz(**tables)
    return make


def _without(name: str):
    return lambda d: _npz(**{k: v for k, v in _tables(d).items() if k != name})


def _set_last(value: int):
    def change(array: np.ndarray, _) -> np.ndarray:
        array = array.copy()
        array[-1] = value
        return array
    return change


# Every index a table holds is used by numpy or by SciPy's unchecked sparse product: one out of
# range must be refused at load, never read at scoring.
REHASHED_TABLES = {
    "unigram-past-the-words": _with_table("unigram", lambda a, s: _set_last(s["words"])(a, s)),
    "bigram-past-the-words": _with_table("bigram_cols", lambda a, s: _set_last(s["words"])(a, s)),
    "bigrams-out-of-order": _with_table("bigram_keys", lambda a, s: a[::-1].copy()),
    "cross-column-past-the-features": _with_table(
        "cross_columns", lambda a, s: _set_last(s["words"] + s["chars"])(a, s)),
    "cross-entry-past-the-table": _with_table("cross_at", lambda a, s: _set_last(2**31 - 1)(a, s)),
    "cross-negative-column": _with_table("cross_columns", lambda a, s: _set_last(-5)(a, s)),
    "char-map-without-empty-tail": _with_table("char_keys", lambda a, s: _set_last(7)(a, s)),
    "char-map-past-the-features": _with_table(
        "char_columns", lambda a, s: np.where(a > 0, a + 10**6, a)),
    "alphabet-out-of-order": _with_table("char_alphabet", lambda a, s: a[::-1].copy()),
    "cross-columns-int64": _with_table("cross_columns", lambda a, s: a.astype(np.int64)),
    "unigram-float": _with_table("unigram", lambda a, s: a.astype(np.float64)),
    "table-missing": _without("cross_at"),
}


@pytest.mark.parametrize("make", REHASHED_TABLES.values(), ids=REHASHED_TABLES.keys())
def test_rehashed_bad_tables(model_copy, make) -> None:
    path = model_copy / "tables.npz"
    path.write_bytes(make(model_copy))
    rehash(model_copy)
    with pytest.raises(ModelError) as info:
        kanalml.load_model(model_copy)
    assert str(path) in str(info.value) or f"{model_copy}: inconsistent" in str(info.value)


def test_rehashed_repeated_cross_classes(model_copy) -> None:
    edit_json(model_copy / "tables.json", lambda t: t["suffixes"][2].append(t["suffixes"][2][0]))
    rehash(model_copy)
    with pytest.raises(ModelError, match=r"inconsistent model files.*repeat"):
        kanalml.load_model(model_copy)


def test_rehashed_cross_class_of_the_wrong_length(model_copy) -> None:
    edit_json(model_copy / "tables.json", lambda t: t["prefixes"][3].append("abcdefgh"))
    rehash(model_copy)
    with pytest.raises(ModelError, match=r"inconsistent model files.*wrong length"):
        kanalml.load_model(model_copy)


def test_vocabularies_are_read_only_when_needed(model_copy, small_model) -> None:
    """Scoring a format-2 model never parses its vocabularies; explaining does, checked then."""
    loaded = kanalml.load_model(model_copy)
    assert loaded.featurizer_.__dict__["_terms_"] is None
    kanalml.score(PROBE, model=loaded)
    assert loaded.featurizer_.__dict__["_terms_"] is None
    assert loaded.explain(POSITIVE_LIKE[0]) == small_model.explain(POSITIVE_LIKE[0])
    assert loaded.featurizer_.vocabulary_ == small_model.featurizer_.vocabulary_


def save_format_1(model, directory: Path) -> Path:
    """``model`` as kanalml wrote models before format 2: deflated float64 weights, the stem
    table as one list per token, no tables."""
    from kanalml import artifact
    from kanalml.model import LAYOUT_V1

    feat = model.featurizer_
    arrays = {"coef": model.coef_, "intercept": model.intercept_,
              "calibration": model.calibration_, "thresholds": model.thresholds_}
    if model.categories_:
        arrays.update(category_coef=model.category_coef_,
                      category_intercept=model.category_intercept_)
    metadata = {**{k: v for k, v in model.metadata_.items() if k != "training_keys"},
                "labels": model.labels_, "categories": model.categories_,
                "featurizer": feat.get_params()}
    documents = {
        "vocabulary.json": sorted(feat.vocabulary_, key=feat.vocabulary_.__getitem__),
        "char_vocabulary.json": sorted(feat.char_vocabulary_,
                                       key=feat.char_vocabulary_.__getitem__),
        "stems.json": {t: [form, *stems]
                       for t, (stems, form) in feat.preprocessor_.stem_table_.items()},
        "metadata.json": metadata,
    }
    assert LAYOUT_V1.version == 1
    return artifact.write(directory, LAYOUT_V1, documents=documents,
                          arrays={"weights.npz": arrays})


def _project_texts() -> list[str]:
    """Every text cell of every data file the project holds."""
    root = Path(__file__).resolve().parents[1] / "data"
    texts: list[str] = []
    for path in sorted([*root.glob("*.csv"), *root.glob("third_party/*.csv.gz")]):
        frame = pd.read_csv(path, dtype=str, encoding="latin-1" if "ibrohim" in path.name
                            else "utf-8")
        texts += frame.stack().tolist()
    return list(dict.fromkeys(texts))


def test_format_1_loads_to_the_scores_of_format_2_on_every_project_file(default_model,
                                                                        tmp_path) -> None:
    """The shipped model (format 2) and the same model written as format 1, whose tables are
    built from its vocabularies at load, score every text of data/ identically."""
    old = kanalml.load_model(save_format_1(default_model, tmp_path / "format-1"))
    assert json.loads((tmp_path / "format-1" / "manifest.json").read_text())[
        "format_version"] == 1
    texts = _project_texts()
    assert len(texts) > 30_000
    np.testing.assert_array_equal(old.predict(texts).proba, default_model.predict(texts).proba)
    pd.testing.assert_frame_equal(kanalml.score(texts[:300], model=old, explain=True),
                                  kanalml.score(texts[:300], model=default_model, explain=True),
                                  check_exact=True)
    # and written again, it is format 2 with the same tables
    again = kanalml.load_model(old.save(tmp_path / "format-2"))
    for name, table in again.featurizer_.scoring_tables()[0].items():
        np.testing.assert_array_equal(table, default_model.featurizer_.scoring_tables()[0][name])


def test_format_1_models_in_the_repository_still_load() -> None:
    models = Path(__file__).resolve().parents[1] / "models"
    for name in ("ekstremisme-v2", "netifier-v1"):
        manifest = json.loads((models / name / "manifest.json").read_text())
        assert manifest["format_version"] == 1
        model = kanalml.load_model(models / name)
        assert 0.0 <= kanalml.score("tegakkan khilafah, perangi thaghut", model=model)["score"] <= 1


@pytest.mark.parametrize("options", [{"char_ngrams": None}, {"ngram_max": 1},
                                     {"char_ngrams": (2, 3)}],
                         ids=["no-char-block", "unigrams", "short-char-ngrams"])
def test_round_trip_of_other_featurizer_settings(corpus, tmp_path, options) -> None:
    """Format 2 saves whichever tables a featurizer has: none for the char block without
    one, a cross table of one-character edges for (2, 3)."""
    texts, labels = corpus
    model = kanalml.train(texts, labels, folds=3, random_state=0, **options)
    target = model.save(tmp_path / "m")
    with np.load(target / "tables.npz", allow_pickle=False) as npz:
        assert ("cross_at" in npz.files) == (options.get("char_ngrams", ()) is not None)
    assert_same_predictions(kanalml.load_model(target), model)


_FLIPPED_LOADS = r"""
import json, sys, warnings
import numpy as np
import kanalml
outcomes = {"refused": 0, "loaded": 0}
for directory in json.loads(sys.argv[1]):
    try:
        model = kanalml.load_model(directory)
    except kanalml.ModelError as error:
        assert "\n" not in str(error), error
        outcomes["refused"] += 1
        continue
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # overflow in a flipped weight is not a crash
        proba = model.predict(["bubarkan thaghut, tegakkan khilafah", "cuaca cerah", ""] * 3)
        one = kanalml.score("perangi kafir", model=model)
    assert proba.proba.shape == (9, len(model.labels_)) and "score" in one
    outcomes["loaded"] += 1
print(json.dumps(outcomes))
"""


def test_flipped_bytes_in_rehashed_tables_are_refused_or_score_without_crashing(model_copy,
                                                                                 tmp_path) -> None:
    """Random bytes flipped in the tables and weights of a rehashed format-2 model: each load
    is refused with a one-line ModelError or scores without an error. Run in a child process:
    an index that slipped past the checks would crash it (SciPy's csr_matvecs reads unchecked)."""
    import shutil

    rng = np.random.default_rng(42)
    directories = []
    for k in range(60):
        target = tmp_path / f"flipped-{k}"
        shutil.copytree(model_copy, target)
        path = target / ("tables.npz" if k % 3 else "weights.npz")
        data = bytearray(path.read_bytes())
        for at in rng.integers(0, len(data), size=int(rng.integers(1, 6))):
            data[at] ^= int(rng.integers(1, 256))
        path.write_bytes(bytes(data))
        rehash(target)
        directories.append(str(target))
    done = subprocess.run([sys.executable, "-c", _FLIPPED_LOADS, json.dumps(directories)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    outcomes = json.loads(done.stdout)
    assert outcomes["refused"] + outcomes["loaded"] == 60
    assert outcomes["refused"] > 0  # some flips must hit a checked place

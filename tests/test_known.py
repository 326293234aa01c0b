"""Known-content lists: format, verification, merge, hash-only export and matching."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from kanalml import known
from kanalml.known import KnownList, KnownListError, Matcher, merge
from kanalml.rank import QueueBuilder, canonical_text

POSTS = [
    "Perangi thaghut dan bala tentaranya, jihad qital telah menjadi fardhu ain atas kalian",
    "Bergabunglah bersama ikhwah di bumi syam, hijrah adalah kewajiban setiap muwahhid sejati",
    "Kirim infaq untuk mujahidin melalui rekening yang kami bagikan di grup tertutup ini",
]
UNRELATED = [
    "Harga cabai di pasar induk naik lagi minggu ini menurut pedagang setempat",
    "Jadwal kereta bandara berubah mulai bulan depan, cek aplikasi sebelum berangkat",
]


def make_list(texts: list[str] = POSTS, org: str = "org-a", when: str = "2026-11-01T00:00:00+00:00"
              ) -> KnownList:
    known_list = KnownList()
    known_list.add(texts, added_by=org, categories=["hasutan"] * len(texts),
                   sources=[f"f.csv:{i}" for i in range(2, len(texts) + 2)], added_at=when)
    return known_list


def test_signatures_equal_the_queue_minhash() -> None:
    builder = QueueBuilder(["ekstremisme"])
    canonicals = [canonical_text(t) for t in POSTS + UNRELATED + ["dua kata"]]
    sigs = known.signatures(canonicals)
    for canonical, signature in zip(canonicals[:-1], sigs[:-1]):
        assert (builder._minhash(canonical).hashvalues == signature).all()
    assert not sigs[-1].any()  # too short for similarity: exact matches only


def test_save_load_round_trip(tmp_path) -> None:
    original = make_list()
    original.save(tmp_path / "list")
    loaded = known.load(tmp_path / "list")
    assert loaded.items == original.items
    assert (loaded.signatures == original.signatures).all()
    assert {p.name for p in (tmp_path / "list").iterdir()} == {
        "items.parquet", "signatures.npy", "manifest.json"}
    assert loaded.items[0]["text"] == POSTS[0]
    assert loaded.items[0]["category"] == "hasutan" and loaded.items[0]["added_by"] == "org-a"


def test_add_skips_items_already_listed() -> None:
    known_list = make_list()
    assert known_list.add(["FWD: " + POSTS[0].upper() + " 🔥", UNRELATED[0]], added_by="b") == 1
    assert len(known_list) == 4


@pytest.mark.parametrize("damage, message", [
    (lambda d: (d / "items.parquet").write_bytes(
        (d / "items.parquet").read_bytes().replace(b"org-a", b"org-x")), "SHA-256 differs"),
    (lambda d: (d / "signatures.npy").write_bytes((d / "signatures.npy").read_bytes()[:-8]),
     "SHA-256 differs"),
    (lambda d: (d / "manifest.json").write_text("{not json"), "not valid JSON"),
    (lambda d: (d / "manifest.json").unlink(), "manifest.json is missing"),
    (lambda d: (d / "extra.pkl").write_bytes(b"x"), "does not list"),
])
def test_damaged_lists_are_refused(tmp_path, damage, message) -> None:
    make_list().save(tmp_path / "list")
    damage(tmp_path / "list")
    with pytest.raises(KnownListError, match=message):
        known.load(tmp_path / "list")


def _rewrite(root, items: list, hash_only: bool = False) -> None:
    """Edit a list's items and recompute the manifest's hash, as a careless editor would."""
    import pyarrow.parquet as pq

    pq.write_table(known._table(items, hash_only), root / "items.parquet")
    manifest = json.loads((root / "manifest.json").read_text())
    manifest["files"]["items.parquet"] = known._sha256(root / "items.parquet")
    (root / "manifest.json").write_text(json.dumps(manifest))


def test_edited_list_with_rewritten_manifest_is_still_checked(tmp_path) -> None:
    root = tmp_path / "list"
    make_list().save(root)
    items = known.load(root).items
    _rewrite(root, [*items, dict(items[0])])
    with pytest.raises(KnownListError, match="holds 4 items, the manifest says 3"):
        known.load(root)
    _rewrite(root, items, hash_only=True)  # texts dropped, manifest still says texts
    with pytest.raises(KnownListError, match="columns are not those of a list"):
        known.load(root)


def test_wrong_version_is_refused(tmp_path) -> None:
    root = tmp_path / "list"
    make_list().save(root)
    manifest = json.loads((root / "manifest.json").read_text())
    manifest["format_version"] = 2
    (root / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(KnownListError, match="format version 2 is not supported"):
        known.load(root)


def test_not_a_list_is_refused(tmp_path) -> None:
    with pytest.raises(KnownListError, match="no such known-content list"):
        known.load(tmp_path / "missing")


def test_merge_dedupes_by_hash_and_keeps_provenance() -> None:
    a = make_list(POSTS[:2], "org-a", "2026-11-02T00:00:00+00:00")
    b = make_list(POSTS[1:], "org-b", "2026-11-01T00:00:00+00:00")
    merged = merge(a, b)
    assert len(merged) == 3 and merged.signatures.shape == (3, known.NUM_PERM)
    shared = next(i for i in merged.items if i["text"] == POSTS[1])
    assert shared["added_by"] == "org-b"  # the earlier addition
    assert shared["seen_by"] == [{"added_by": "org-a", "added_at": "2026-11-02T00:00:00+00:00",
                                  "source": "f.csv:3"}]
    assert [i["added_by"] for i in merged.items if i["text"] != POSTS[1]] == ["org-a", "org-b"]
    for item, signature in zip(merged.items, merged.signatures):
        assert (known.signatures([canonical_text(item["text"])])[0] == signature).all()


def test_hash_only_export_reveals_no_5gram(tmp_path) -> None:
    make_list().without_text().save(tmp_path / "shared")
    loaded = known.load(tmp_path / "shared")
    assert loaded.hash_only and all("text" not in item for item in loaded.items)
    blob = b"".join(p.read_bytes() for p in (tmp_path / "shared").iterdir())
    for text in POSTS:
        for form in (text, text.lower(), canonical_text(text)):
            for i in range(len(form) - 4):
                gram = form[i:i + 5]
                for encoding in ("utf-8", "utf-16-le", "utf-32-le"):
                    assert gram.encode(encoding) not in blob, gram
    # and it still matches
    ids, sims = Matcher(loaded).match(["Fwd: " + POSTS[2]])
    assert ids[0] == loaded.items[2]["id"] and sims[0] == 1.0


def test_matching_exact_near_and_unrelated() -> None:
    known_list = make_list()
    matcher = Matcher(known_list)
    edited = POSTS[0].replace("kalian", "kalian semua") + " https://t.me/x"
    ids, sims = matcher.match([POSTS[0], "FWD: " + POSTS[1].upper(), edited, *UNRELATED, None,
                               ""])
    first, second = known_list.items[0]["id"], known_list.items[1]["id"]
    assert list(ids[:3]) == [first, second, first]
    assert sims[0] == 1.0 and sims[1] == 1.0 and known.THRESHOLD <= sims[2] < 1.0
    assert list(ids[3:]) == [None] * 4 and np.isnan(sims[3:]).all()


def test_matching_uses_an_index_not_pairs(monkeypatch) -> None:
    known_list = make_list()
    matcher = Matcher(known_list)
    compared = []
    real = np.unique

    def spy(array, *args, **kwargs):
        if kwargs.get("axis") == 0 and array.ndim == 2:
            compared.append(len(array))
        return real(array, *args, **kwargs)

    monkeypatch.setattr(known.np, "unique", spy)
    matcher.match([POSTS[0] + " ya", *UNRELATED * 50])
    # one pair, found in up to LSH_BANDS bands, not 3 x 101 pairs
    assert len(compared) == 1 and compared[0] <= known.LSH_BANDS


def test_ids_are_stable_hash_prefixes() -> None:
    known_list = make_list()
    assert all(re.fullmatch(r"k-[0-9a-f]{16}", i["id"]) for i in known_list.items)
    assert all(i["id"][2:] == i["sha256"][:16] for i in known_list.items)


def _chunk(texts, ids, sims, channel="c"):
    import pandas as pd

    return pd.DataFrame({"text": texts, "score": [0.9, 0.1][: len(texts)],
                         "ekstremisme": [0.9, 0.1][: len(texts)], "channel": channel,
                         "known_id": ids, "known_similarity": sims})


def test_queue_puts_known_first_and_survives_merge_and_prune() -> None:
    a = QueueBuilder(["ekstremisme"], min_score=0.5)
    a.add(_chunk([POSTS[0], POSTS[1]], [None, "k-1"], [np.nan, 0.8]), text_column="text",
          channel_column="channel", date_column=None)
    b = QueueBuilder(["ekstremisme"], min_score=0.5)
    b.add(_chunk([POSTS[1] + " ya"], ["k-1"], [0.9], channel="d"), text_column="text",
          channel_column="channel", date_column=None)
    queue, _ = a.merge(b).queue()
    # the known match is first although its score (0.1) is below min_score
    assert queue["known_id"].tolist() == ["k-1", None]
    assert queue["known_similarity"].iloc[0] == 0.9 and queue["copies"].iloc[0] == 2
    assert a.known_counts() == {"c": 1, "d": 1}
    assert a.prune(1).queue()[0]["known_id"].tolist() == ["k-1"]
    assert a.channels()["known_posts"].sum() == 2


@pytest.mark.parametrize("extra", [[], ["ab"], [""], ["", "abc", ""]])
def test_batch_shingles_equal_one_text_shingles(extra) -> None:
    from kanalml.rank import _shingle_hashes, shingle_hashes_batch

    texts = ["halo apa kabar 🔥", "x" * 50, "\ud800abc def", "abcde", "abcdef ghij", *extra]
    hashes, counts = shingle_hashes_batch(texts)
    parts = np.split(hashes, np.cumsum(counts)[:-1])
    assert len(parts) == len(texts)
    for part, text in zip(parts, texts):
        assert (np.unique(part) == _shingle_hashes(text)).all()
    assert _shingle_hashes("abcd").tolist() == [2184044683]  # unchanged by the batching


def test_long_post_confirmed_from_its_queue_excerpt_still_matches() -> None:
    import pandas as pd

    from kanalml.rank import EXCERPT_CHARS

    repeats = EXCERPT_CHARS // len(" ".join(POSTS)) + 2  # longer than a Telegram message
    long_post = " ".join(POSTS * repeats) + " Hubungi 0812-3456-7890 untuk bergabung."
    assert len(long_post) > EXCERPT_CHARS
    builder = QueueBuilder(["ekstremisme"])
    builder.add(pd.DataFrame({"text": [long_post], "score": [0.5], "ekstremisme": [0.5]}),
                text_column="text", channel_column=None, date_column=None)
    shown = builder.queue()[0]["text"].iloc[0]  # what the review page shows and decisions keep
    assert shown.endswith("…") and len(shown) <= EXCERPT_CHARS
    listing = KnownList()
    listing.add([shown], added_by="org-a")
    ids, sims = Matcher(listing).match(["FWD: " + long_post + " 🔥", long_post, POSTS[0], []])
    assert list(ids) == [listing.items[0]["id"]] * 2 + [None, None]
    assert sims[1] == 1.0 and sims[0] >= known.THRESHOLD
    assert Matcher(listing).match([])[0].tolist() == []

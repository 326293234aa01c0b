"""The shipped model scores extremist content, not its topic (docs/annotation-guide.md).

Written after the modelling choices were frozen; the posts here are new phrasings, in none of
the project's data files.
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import DEMO_EXPORT, REPO_ROOT

import kanalml

EXTREMIST = {
    "Wahai para muwahhid, thaghut negeri ini wajib diperangi": "hasutan",
    "Raih mati syahid, jangan tunduk pada boneka thaghut": None,
    "Salurkan infaq terbaik antum untuk keluarga ikhwan yang ditawan thaghut, japri admin":
        "pendanaan",
    "Ayo baiat dan hijrah ke bumi daulah, jangan cuma jadi penonton": "rekrutmen",
    "Semoga Allah menerima amaliyah saudara kita kemarin, syuhada insyaAllah": "glorifikasi",
    "Kalian aparat thaghut tunggu saja pembalasan kami, darah dibalas darah": "ancaman",
}
NOT_EXTREMIST = [
    "Mari jaga persatuan, tolak paham radikal dan terorisme",
    "Jihad bukan melulu soal perang, terorisme, dan bom bunuh diri, tapi melawan hawa nafsu",
    "Densus 88 Antiteror menangkap tiga terduga teroris di sebuah kabupaten, Selasa pagi",
    "bom dia amigos, tudo bem?",
    "Pengajian rutin malam Jumat: hijrah menuju pribadi yang lebih baik, terbuka untuk umum",
    "Sejarah kekhilafahan Utsmaniyah dibahas dalam seminar mahasiswa sejarah Islam",
    "Infaq pembangunan masjid bisa disalurkan lewat pengurus DKM, jazakumullah",
    "Build Free Fire terbaik: lempar bom asap lalu rush ke zona aman",
]


@pytest.fixture(scope="module")
def scored(default_model) -> pd.DataFrame:
    return kanalml.score([*EXTREMIST, *NOT_EXTREMIST], model=default_model, explain=True)


def test_primary_score_is_extremist_content(default_model) -> None:
    assert default_model.primary == "ekstremisme"
    assert default_model.categories_ == sorted(
        ["hasutan", "glorifikasi", "rekrutmen", "takfir", "pendanaan", "ancaman"])


def test_propaganda_outranks_every_topic_matched_post(scored) -> None:
    positives = scored["score"].iloc[:len(EXTREMIST)]
    negatives = scored["score"].iloc[len(EXTREMIST):]
    assert positives.min() > negatives.max()
    assert scored["flagged"].iloc[:len(EXTREMIST)].all()
    assert not scored["flagged"].iloc[len(EXTREMIST):].any()


def test_categories_name_what_the_post_does(scored) -> None:
    for i, expected in enumerate(EXTREMIST.values()):
        if expected:
            assert scored["category"].iloc[i] == expected, list(EXTREMIST)[i]


def test_evidence_is_content_words(scored) -> None:
    words = {w.lower() for pairs in scored["evidence"] for w, _ in pairs}
    assert {"thaghut", "ikhwan"} <= words
    assert not words & {"di", "ada", "atau", "yang", "ini", "itu", "dan"}
    assert not [w for w in words if ".." in w or not any(c.isalpha() for c in w)]


def test_fused_tokens_are_named_as_their_words(default_model) -> None:
    evidence = dict(default_model.explain("perangi..thaghut sekarang juga"))
    assert "perangi..thaghut" not in evidence and "thaghut" in evidence


def test_spelling_variants_score_the_same(default_model) -> None:
    variants = ["thaghut", "thoghut", "toghut", "taghut", "th0ghut", "t.h.a.g.h.u.t"]
    scores = kanalml.score([f"bara' dari {v} dan para pembelanya, perangi mereka"
                            for v in variants], model=default_model)["score"]
    assert scores.nunique() == 1


def test_demo_export_puts_the_radical_posts_first(default_model) -> None:
    export = pd.read_csv(DEMO_EXPORT)
    export["score"] = kanalml.score(export["text"], model=default_model)["score"]
    # The data card's 8 radical posts are those of these two channels, and only they are.
    radical = export["channel"].isin(["seruan_alhaq", "kabar_ummah_bangkit"])
    top = export.nlargest(int(radical.sum()), "score").index
    assert set(top) == set(export.index[radical])


def test_held_out_pass_is_not_training_data(default_model) -> None:
    corpus = pd.read_csv(REPO_ROOT / "data" / "extremism_corpus.csv")
    test = corpus[corpus["pass"] == 4]
    from kanalml.evaluation import training_overlap

    assert training_overlap(default_model, test["text"]) <= 2  # formulaic posts only
    assert training_overlap(default_model, corpus[corpus["pass"] == 1]["text"]) == \
        (corpus["pass"] == 1).sum()

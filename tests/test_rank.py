"""The moderator queue: duplicate groups, priority, budget, channel summary, PII masking."""

from __future__ import annotations

import random
import time

import numpy as np
import pandas as pd
import pytest

from kanalml.rank import PRIORITY_FORMULA, QueueBuilder, mask_pii

LABELS = ["radikalisme", "sara"]
COLUMNS = ["rank", "score", "radikalisme", "sara", "flagged", "text", "evidence", "copies",
           "first_seen", "last_seen", "channels", "source", "message_ids"]

BASE = ("Saudaraku, sistem demokrasi adalah sistem kafir. Tegakkan khilafah, "
        "bubarkan pemerintah thaghut sekarang juga!")
FORWARDS = [
    "FWD: " + BASE,
    BASE + " 🔥🔥",
    BASE.upper(),
    BASE.replace(" ", "   "),
    BASE.replace("sistem kafir", "sistem yang kafir"),  # a word added
    "Fw: " + BASE.replace("sekarang juga", "sekarang"),  # a word removed
]
EVERYDAY_A = "Harga cabai di pasar naik lagi hari ini, ibu-ibu mengeluh."
EVERYDAY_B = "Harga bawang di pasar turun lagi hari ini, pedagang senang."
DISTINCT = [
    "jalan sudirman macet parah pagi ini",
    "nanti sore hujan deras, bawa payung",
    "makan siang nasi padang enak banget",
    "timnas menang dua kosong tadi malam",
    "anak-anak libur sekolah minggu depan",
    "kereta commuter terlambat sepuluh menit",
    "selamat ulang tahun ibu tercinta",
    "besok kerja bakti membersihkan selokan",
]


def scored(texts: list[str], scores: list[float] | None = None, *,
           channels: list[str | None] | None = None, dates: list[str | None] | None = None,
           flagged: list[bool] | None = None, evidence: list[object] | None = None,
           reach: list[object] | None = None) -> pd.DataFrame:
    """A chunk as the CLI passes it: input columns plus score, labels, flagged, evidence."""
    n = len(texts)
    scores = [0.5] * n if scores is None else scores
    frame = pd.DataFrame({
        "message": texts,
        "channel": channels if channels is not None else ["kanal_a"] * n,
        "date": dates if dates is not None else [None] * n,
    })
    if reach is not None:
        frame["views"] = reach
    frame["score"] = scores
    frame["radikalisme"] = scores
    frame["sara"] = [s / 2 for s in scores]
    frame["flagged"] = flagged if flagged is not None else [s >= 0.5 for s in scores]
    frame["evidence"] = evidence if evidence is not None else [[] for _ in texts]
    return frame


def add(builder: QueueBuilder, chunk: pd.DataFrame, *, channel: bool = True) -> None:
    builder.add(chunk, text_column="message", channel_column="channel" if channel else None,
                date_column="date")


def build(chunks: list[pd.DataFrame], **options: object) -> QueueBuilder:
    builder = QueueBuilder(LABELS, **options)
    for chunk in chunks:
        add(builder, chunk)
    return builder


# -- duplicate groups ------------------------------------------------------------------------

def test_forwarded_copies_with_small_edits_become_one_item() -> None:
    channels = [f"kanal_{i}" for i in range(7)]
    chunks = [scored([text], [0.8], channels=[channel])
              for text, channel in zip([BASE, *FORWARDS], channels)]
    chunks.append(scored([EVERYDAY_A, EVERYDAY_B], [0.1, 0.05], channels=["pasar", "pasar"]))
    queue, _ = build(chunks).queue()

    assert len(queue) == 3
    top = queue.iloc[0]
    assert top["copies"] == 7
    assert top["channels"] == ", ".join(sorted(channels))
    # two everyday posts sharing several words stay two items
    assert sorted(queue["copies"].tolist()) == [1, 1, 7]
    assert set(queue["text"].iloc[1:]) == {EVERYDAY_A, EVERYDAY_B}


def test_a_different_message_on_the_same_topic_is_not_merged() -> None:
    other = "Tolak khilafah, dukung pemerintah yang sah dan jaga persatuan bangsa."
    queue, _ = build([scored([BASE, other], [0.9, 0.2])]).queue()
    assert queue["copies"].tolist() == [1, 1]


def test_duplicates_collapse_across_chunks() -> None:
    chunks = [scored([text], [0.1]) for text in DISTINCT]
    chunks[6] = scored([DISTINCT[0].upper() + "!! 👍"], [0.1])
    builder = build(chunks)
    assert len(builder) == 7
    queue, _ = builder.queue()
    assert sorted(queue["copies"].tolist()) == [1, 1, 1, 1, 1, 1, 2]


def test_short_texts_merge_only_when_identical_after_folding() -> None:
    texts = ["selamat pagi semua", "Selamat  PAGI semua!! 😊", "FWD: selamat pagi semua",
             "selamat pagi semuanya", "selamat siang semua"]
    queue, _ = build([scored(texts, [0.1] * 5)]).queue()
    assert sorted(queue["copies"].tolist()) == [1, 1, 3]


def test_an_item_shows_its_earliest_copy_the_one_source_names() -> None:
    """The text, evidence and category are the earliest copy's, the copy ``source`` names;
    score and labels are the highest over the copies; message ids are in date order."""
    texts = [BASE.upper(), BASE + " 🔥", "FWD: " + BASE, BASE + " !!"]
    evidence = [[("THAGHUT", 0.5)], [("khilafah", 1.234), ("kafir", 0.456)],
                [("demokrasi", 0.1)], [("bubarkan", 0.2)]]
    chunk = scored(texts, [0.95, 0.4, 0.7, 0.6], flagged=[True, False, False, False],
                   evidence=evidence,
                   dates=["2026-11-05T10:00", "2026-11-01T08:00", "2026-11-03T09:00", None])
    chunk["sara"] = [0.1, 0.6, 0.2, 0.3]
    chunk["category"] = ["ancaman", "hasutan", "takfir", "takfir"]
    chunk["message_id"] = ["40", "10", "30", "50"]
    builder = QueueBuilder(LABELS)
    builder.add(chunk, text_column="message", channel_column="channel", date_column="date",
                id_column="message_id")
    queue, _ = builder.queue()

    assert len(queue) == 1
    item = queue.iloc[0]
    assert item["text"] == BASE + " 🔥"
    assert item["evidence"] == "khilafah (1.23); kafir (0.46)"
    assert item["category"] == "hasutan"  # the shown copy's, the item being flagged
    assert item["source"] == "kanal_a/10"
    # by date; the undated copy last
    assert item["message_ids"] == "kanal_a/10; kanal_a/30; kanal_a/40; kanal_a/50"
    assert item["score"] == pytest.approx(0.95)
    assert item["radikalisme"] == pytest.approx(0.95)
    assert item["sara"] == pytest.approx(0.6)  # each label: max over copies
    assert bool(item["flagged"]) is True  # any copy flagged
    assert item["first_seen"].startswith("2026-11-01T08:00")


def test_the_earliest_copy_wins_across_chunks_and_ties_go_to_the_first_seen() -> None:
    chunks = [scored([BASE + " ✊"], [0.9], evidence=[[("khilafah", 0.9)]], dates=[None]),
              scored(["FWD: " + BASE], [0.3], evidence=[[("thaghut", 0.1)]],
                     dates=["2026-11-02"]),
              scored([BASE.upper()], [0.5], evidence=[[("kafir", 0.5)]], dates=["2026-11-02"])]
    queue, _ = build(chunks).queue()
    assert queue["text"].tolist() == ["FWD: " + BASE]
    assert queue["evidence"].tolist() == ["thaghut (0.10)"]
    assert queue["score"].tolist() == [0.9]
    assert queue["source"].tolist() == [""]  # these chunks say neither file nor message id


def test_category_is_shown_only_on_flagged_items() -> None:
    chunk = scored([BASE, EVERYDAY_A], [0.9, 0.2])
    chunk["category"] = ["hasutan", "rekrutmen"]  # a lost-cat post resembles recruitment most
    queue, _ = build([chunk]).queue()
    assert queue["flagged"].tolist() == [True, False]
    assert queue["category"].tolist() == ["hasutan", None]


def test_message_ids_keep_the_earliest_when_there_are_too_many() -> None:
    from kanalml.rank import MAX_IDS

    n = 2 * MAX_IDS + 50
    dates = [str(pd.Timestamp("2026-01-01", tz="UTC") + pd.Timedelta(minutes=n - i))
             for i in range(n)]  # later rows are earlier posts
    chunk = scored([BASE] * n, [0.5] * n, dates=dates)
    chunk["message_id"] = [str(i) for i in range(n)]
    builder = QueueBuilder(LABELS)
    builder.add(chunk, text_column="message", channel_column="channel", date_column="date",
                id_column="message_id")
    ids = builder.queue()[0]["message_ids"].iloc[0].split("; ")
    assert ids[-1] == f"+{n - MAX_IDS} more"
    assert ids[:-1] == [f"kanal_a/{i}" for i in range(n - 1, n - 1 - MAX_IDS, -1)]


def test_first_and_last_seen_are_iso_utc_and_ignore_missing_dates() -> None:
    chunks = [
        scored([BASE], dates=["2024-03-02T10:00:00+07:00"]),
        scored([BASE.upper(), BASE + "!"], dates=[None, "not a date"]),
        scored(["FWD: " + BASE], dates=["2024-03-05 08:30:00"]),
        scored([EVERYDAY_A], dates=[None]),
    ]
    queue, _ = build(chunks).queue()
    dated = queue[queue["copies"] == 4].iloc[0]
    assert dated["first_seen"] == "2024-03-02T03:00:00+00:00"
    assert dated["last_seen"] == "2024-03-05T08:30:00+00:00"
    undated = queue[queue["copies"] == 1].iloc[0]
    assert pd.isna(undated["first_seen"]) and pd.isna(undated["last_seen"])


def test_queue_text_is_the_masked_post_with_whitespace_collapsed() -> None:
    long = ("Info   lengkap\nhubungi 0812-3456-7890 atau admin@contoh.co.id\t\t" + "kata " * 200)
    longer = "awal " + "panjang " * 800  # over Telegram's 4,096-character limit: a forum post
    queue, _ = build([scored([long, longer], evidence=[[("0812-3456-7890", 0.3), ("info", 0.2)],
                                                       []])]).queue()
    text = queue["text"].iloc[0]
    assert text == ("Info lengkap hubungi [telepon] atau [email] " + "kata " * 200).strip()
    cut = queue["text"].iloc[1]
    assert len(cut) == 4096 and cut.startswith("awal panjang") and cut.endswith("…")
    assert "\n" not in text and "  " not in text
    assert queue["evidence"].iloc[0] == "[telepon] (0.30); info (0.20)"


def test_evidence_in_other_shapes_is_read() -> None:
    texts = ["satu dua tiga empat", "lima enam tujuh delapan", "sembilan sepuluh sebelas"]
    evidence = [[["khilafah", 0.5]], "thaghut (0.75); kafir (0.25)", np.array([], dtype=object)]
    queue, _ = build([scored(texts, [0.9, 0.8, 0.7], evidence=evidence)]).queue()
    assert queue["evidence"].tolist() == ["khilafah (0.50)", "thaghut (0.75); kafir (0.25)", ""]


# -- priority, min_score, budget ----------------------------------------------------------------

def test_queue_columns_and_rank_follow_score() -> None:
    texts = ["pos satu dua tiga", "pos empat lima enam", "pos tujuh delapan sembilan"]
    queue, covered = build([scored(texts, [0.2, 0.9, 0.5])]).queue()
    assert list(queue.columns) == COLUMNS
    assert queue["rank"].tolist() == [1, 2, 3]
    assert queue["score"].tolist() == [0.9, 0.5, 0.2]
    assert covered == 1.0


def test_score_ties_are_broken_by_copies_then_first_seen() -> None:
    chunk = scored(["alpha beta gamma delta", "epsilon zeta eta theta", "iota kappa lambda mu",
                    "iota kappa lambda mu"], [0.6] * 4,
                   dates=["2024-01-03", "2024-01-01", "2024-01-05", "2024-01-06"])
    queue, _ = build([chunk]).queue()
    assert queue["text"].tolist() == ["iota kappa lambda mu", "epsilon zeta eta theta",
                                      "alpha beta gamma delta"]


def test_reach_reorders_items_with_equal_scores() -> None:
    chunk = scored(["pesan pertama untuk semua", "pesan kedua untuk kalian",
                    "pesan ketiga untuk kita"], [0.6, 0.6, 0.6], reach=[10, None, 50_000])
    assert build([chunk]).queue()[0]["text"].tolist() == [
        "pesan pertama untuk semua", "pesan kedua untuk kalian", "pesan ketiga untuk kita"]
    queue, _ = build([chunk], reach_column="views").queue()
    assert queue["text"].tolist() == ["pesan ketiga untuk kita", "pesan pertama untuk semua",
                                      "pesan kedua untuk kalian"]


def test_reach_of_an_item_is_the_largest_over_its_copies() -> None:
    chunk = scored([BASE, "FWD: " + BASE, EVERYDAY_A], [0.5, 0.5, 0.5],
                   reach=[1_000, 0, "100"], flagged=[False] * 3)
    queue, _ = build([chunk], reach_column="views").queue()
    assert queue["copies"].tolist() == [2, 1]


def test_reach_boost_is_bounded() -> None:
    """score × (1 + 0.1 × min(log10(1 + reach), 6)): at most ×1.6."""
    texts = ["tinggi tanpa penonton sama sekali", "rendah dengan sejuta penonton di kanal",
             "sedang dengan sejuta penonton di kanal lain",
             "agak sedang semiliar penonton kanal ketiga"]
    chunk = scored(texts, [0.9, 0.3, 0.6, 0.55], reach=[0, 10**6, 10**6, 10**9])
    queue, _ = build([chunk], reach_column="views").queue()
    # 0.6 × 1.6 = 0.96 > 0.9 > 0.55 × 1.6 = 0.88 (10^9 counts as 10^6) > 0.3 × 1.6 = 0.48
    assert queue["score"].tolist() == [0.6, 0.9, 0.55, 0.3]
    assert "log10" in PRIORITY_FORMULA and "1.6" in PRIORITY_FORMULA


def test_min_score_drops_items_but_they_still_count() -> None:
    texts = ["pos satu dua tiga", "pos empat lima enam", "pos tujuh delapan sembilan"]
    builder = build([scored(texts, [0.9, 0.3, 0.05])], min_score=0.2)
    queue, covered = builder.queue()
    assert queue["score"].tolist() == [0.9, 0.3]
    assert covered == pytest.approx(1.2 / 1.25)
    assert builder.channels()["posts"].tolist() == [3]


def test_budget_keeps_the_first_items_and_reports_coverage() -> None:
    texts = DISTINCT[:4]
    builder = build([scored(texts, [0.1, 0.6, 0.3, 0.0])])
    queue, covered = builder.queue(budget=2)
    assert queue["rank"].tolist() == [1, 2]
    assert queue["score"].tolist() == [0.6, 0.3]
    assert covered == pytest.approx(0.9 / 1.0)
    assert builder.queue(budget=10)[1] == 1.0
    assert builder.queue(budget=0)[1] == 0.0
    with pytest.raises(ValueError, match="budget"):
        builder.queue(budget=-1)


def test_empty_builder_gives_an_empty_queue() -> None:
    builder = QueueBuilder(LABELS)
    add(builder, scored([]))
    queue, covered = builder.queue(budget=5)
    assert list(queue.columns) == COLUMNS and queue.empty
    assert covered == 1.0
    assert builder.channels().empty


def test_all_zero_scores_cover_everything() -> None:
    _, covered = build([scored(["satu dua tiga empat", "lima enam tujuh delapan"], [0.0, 0.0])]
                       ).queue(budget=1)
    assert covered == 1.0


# -- channels -------------------------------------------------------------------------------

def test_channel_summary_counts_rows_and_orders_by_risk() -> None:
    chunk = scored(
        [BASE, "FWD: " + BASE, EVERYDAY_A, EVERYDAY_B, "cuaca cerah hari ini", "jalan macet"],
        [0.9, 0.8, 0.2, 0.1, 0.3, 0.95],
        channels=["radikal", "radikal", "radikal", "pasar", "pasar", None],
        flagged=[True, True, False, False, False, True],
        evidence=[[("khilafah", 1.0), ("thaghut", 0.8)], [("Khilafah", 0.5), ("kafir", 0.4)],
                  [("pasar", 3.0)], [("bawang", 0.2), ("pasar", 0.1)],
                  [("cuaca", 0.5), ("pasar", 0.35)],
                  [("macet", 0.1)]])
    frame = build([chunk]).channels()
    assert list(frame.columns) == ["channel", "posts", "flagged_posts", "flagged_share",
                                   "max_score", "mean_score", "top_evidence"]
    assert frame["channel"].tolist() == ["(unknown)", "radikal", "pasar"]
    radikal = frame.set_index("channel").loc["radikal"]
    assert radikal["posts"] == 3 and radikal["flagged_posts"] == 2
    assert radikal["flagged_share"] == 0.6667  # rounded: a table a person reads
    assert radikal["max_score"] == pytest.approx(0.9)
    assert radikal["mean_score"] == round((0.9 + 0.8 + 0.2) / 3, 4)
    assert frame["posts"].dtype.kind == "i" and frame["flagged_posts"].dtype.kind == "i"
    # over flagged posts only: "pasar" (3.0, unflagged post) is left out
    assert radikal["top_evidence"] == "khilafah; thaghut; kafir"
    # no flagged post: over all its posts, weights summed (pasar 0.1 + 0.35 > bawang 0.2)
    assert frame.set_index("channel").loc["pasar", "top_evidence"] == "cuaca; pasar; bawang"


def test_channel_ties_on_share_are_ordered_by_max_score() -> None:
    chunk = scored(["satu dua tiga empat", "lima enam tujuh delapan"], [0.3, 0.4],
                   channels=["b", "a"], flagged=[False, False])
    assert build([chunk]).channels()["channel"].tolist() == ["a", "b"]


def test_without_a_channel_column_everything_is_one_unknown_channel() -> None:
    builder = QueueBuilder(LABELS)
    add(builder, scored([BASE, EVERYDAY_A], [0.9, 0.1]), channel=False)
    frame = builder.channels()
    assert frame["channel"].tolist() == ["(unknown)"]
    assert frame["posts"].tolist() == [2]
    assert builder.queue()[0]["channels"].tolist() == ["(unknown)", "(unknown)"]


# -- robustness, memory, determinism ------------------------------------------------------------

def test_loose_values_are_read_leniently() -> None:
    chunk = pd.DataFrame({
        "message": ["satu dua tiga empat", None, 42],
        "channel": [None, 1001.0, float("nan")],
        "date": ["2024-05-01T10:00:00Z", "kemarin", None],
        "score": ["0.7", None, 0.2],
        "radikalisme": [0.7, None, 0.2],
        "sara": [0.1, 0.1, None],
        "flagged": [True, None, False],
        "evidence": [None, float("nan"), "angka (0.50)"],
    }, index=[5, 9, 11])
    builder = QueueBuilder(LABELS)
    add(builder, chunk)
    queue, _ = builder.queue()
    assert queue["text"].tolist() == ["satu dua tiga empat", "42", ""]
    assert queue["score"].tolist() == [0.7, 0.2, 0.0]
    assert queue["flagged"].tolist() == [True, False, False]
    assert queue["first_seen"].tolist()[0] == "2024-05-01T10:00:00+00:00"
    assert queue["channels"].tolist() == ["(unknown)", "(unknown)", "1001"]
    assert queue["evidence"].tolist() == ["", "angka (0.50)", ""]


def test_missing_columns_and_bad_labels_are_rejected() -> None:
    builder = QueueBuilder(LABELS)
    with pytest.raises(ValueError, match="sara"):
        add(builder, scored([BASE]).drop(columns="sara"))
    with pytest.raises(ValueError, match="views"):
        QueueBuilder(LABELS, reach_column="views").add(
            scored([BASE]), text_column="message", channel_column=None, date_column=None)
    with pytest.raises(ValueError, match="text"):
        QueueBuilder(["radikalisme", "text"])
    with pytest.raises(ValueError, match="min_score"):
        QueueBuilder(LABELS, min_score=2.0)


def _word(rng: random.Random) -> str:
    return "".join(rng.choice("bcdfghjklmnprstw") + rng.choice("aiueo") for _ in range(3))


def _heavy_chunks(n_chunks: int, rows: int) -> tuple[list[pd.DataFrame], int]:
    """Chunks drawn from 30 long and 10 short messages, as forwarded copies with small edits."""
    rng = random.Random(3)
    long = [" ".join(_word(rng) for _ in range(12)) for _ in range(30)]
    short = [" ".join(_word(rng) for _ in range(2)) for _ in range(10)]
    edits = [lambda t: t, str.upper, lambda t: "FWD: " + t, lambda t: t + " 🔥",
             lambda t: t.replace(" ", "  ")]
    near = [lambda t: t + " juga", lambda t: t.split(" ", 1)[1]]  # a word added / removed
    chunks = []
    for c in range(n_chunks):
        texts = []
        for _ in range(rows):
            if rng.random() < 0.75:
                text = rng.choice(long)
                if rng.random() < 0.1:
                    text = rng.choice(near)(text)
            else:
                text = rng.choice(short)
            texts.append(rng.choice(edits)(text))
        scores = [round(rng.random(), 3) for _ in range(rows)]
        chunks.append(scored(texts, scores, channels=[f"kanal_{c % 17}"] * rows,
                             dates=[f"2024-01-{1 + c % 28:02d}T12:00:00Z"] * rows,
                             reach=[rng.choice([None, 0, 10, 5000]) for _ in range(rows)]))
    return chunks, len(long) + len(short)


def test_memory_grows_with_distinct_messages_not_rows() -> None:
    chunks, distinct = _heavy_chunks(200, 1000)
    builder = QueueBuilder(LABELS)
    start = time.perf_counter()
    for chunk in chunks:
        add(builder, chunk)
    elapsed = time.perf_counter() - start
    assert builder.rows == 200_000
    assert len(builder) == distinct
    # exact-match keys: one per distinct folded text (original plus near-duplicate variants)
    assert len(builder._exact) <= distinct + 2 * 30
    queue, covered = builder.queue()
    assert len(queue) == distinct and queue["copies"].sum() == 200_000 and covered == 1.0
    assert builder.channels()["posts"].sum() == 200_000
    assert elapsed < 20, f"200,000 rows took {elapsed:.1f} s"


def test_output_is_deterministic() -> None:
    chunks, _ = _heavy_chunks(5, 200)
    chunks.append(scored([BASE, *FORWARDS, EVERYDAY_A, EVERYDAY_B], reach=list(range(9))))
    first = build(chunks, reach_column="views")
    second = build(chunks, reach_column="views")
    pd.testing.assert_frame_equal(first.queue(budget=20)[0], second.queue(budget=20)[0])
    pd.testing.assert_frame_equal(first.channels(), second.channels())


def test_real_scores_from_a_trained_model(small_model) -> None:
    import kanalml

    texts = [BASE, *FORWARDS, EVERYDAY_A, EVERYDAY_B, "diskon besar hubungi 0812 3456 7890"]
    result = kanalml.score(texts, model=small_model, explain=True)
    chunk = pd.concat([pd.DataFrame({"message": texts, "channel": "kanal", "date": None}),
                       result], axis=1)
    builder = QueueBuilder(small_model.labels_)
    add(builder, chunk)
    queue, _ = builder.queue()
    assert list(queue.columns) == ["rank", "score", *small_model.labels_, "flagged", "text",
                                   "evidence", "copies", "first_seen", "last_seen", "channels",
                                   "source", "message_ids"]
    assert len(queue) == 4
    top = queue.iloc[0]
    assert top["copies"] == 7
    assert top["score"] == pytest.approx(result["score"].iloc[:7].max())
    assert "(" in top["evidence"]
    assert not queue["text"].str.contains("3456").any()


# -- PII ------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("hubungi 0812-3456-7890 ya", "hubungi [telepon] ya"),
    ("WA +62 812 3456 7890.", "WA [telepon]."),
    ("wa.me/6281234567890", "wa.me/[telepon]"),
    ("(0812) 3456-7890", "[telepon]"),
    ("(+62) 812.3456.789", "[telepon]"),
    ("nomor:081234567890", "nomor:[telepon]"),
    ("kirim ke admin.kanal+1@gmail.com sekarang", "kirim ke [email] sekarang"),
    ("Email: Nama_Saya@Mail.Co.ID.", "Email: [email]."),
    ("0812345678@gmail.com", "[email]"),
    ("hub +62 (0) 812 3456 7890 ya", "hub [telepon] ya"),
    ("hub 0812–3456–7890 ya", "hub [telepon] ya"),
    ("hub 0812/3456/7890 ya", "hub [telepon] ya"),
    ("hub 0812_3456_7890 ya", "hub [telepon] ya"),
    ("hub 0 8 1 2 3 4 5 6 7 8 9 0 ya", "hub [telepon] ya"),
    ("hub ٠٨١٢٣٤٥٦٧٨٩٠ ya", "hub [telepon] ya"),
    ("kantor (021) 5551234 ya", "kantor [telepon] ya"),
    ("kantor 021-5551234 ya", "kantor [telepon] ya"),
    ("nomor 0212345678", "nomor [telepon]"),  # a landline is a person's number too
    ("nama＠gmail.com", "[email]"),
    ("na\u200bma@gmail.com", "[email]"),
])
def test_mask_pii_masks_phones_and_emails(text: str, expected: str) -> None:
    assert mask_pii(text) == expected


@pytest.mark.parametrize("text", [
    "tanggal 2024-08-17 jam 10.30",
    "harga Rp 50.000, stok 1200 buah",
    "NIK 3174012345678901",
    "kode 081234",  # too short for a phone number
    "jam 08.00-17.00, istirahat 12.00",
    "tanggal 17/08/2024 dan 08/12/2024",
    "tagar #bubarkan @akun",
])
def test_mask_pii_keeps_other_numbers(text: str) -> None:
    assert mask_pii(text) == text


def test_mask_pii_is_total() -> None:
    assert mask_pii(None) == ""  # type: ignore[arg-type]
    assert mask_pii(float("nan")) == ""  # type: ignore[arg-type]
    assert mask_pii(81234567890) == "81234567890"  # type: ignore[arg-type]  # a number, not text
    assert mask_pii("x" * 100_000) == "x" * 100_000


# -- merging partial queues (what the Dask engine does across partitions) ---------------------

def _merged(parts: list[list[pd.DataFrame]], **options: object) -> QueueBuilder:
    builders = [build(chunks, **options) for chunks in parts]
    merged = builders[0]
    for other in builders[1:]:
        merged.merge(other)
    return merged


def test_merged_partitions_give_the_sequential_queue() -> None:
    chunks, _ = _heavy_chunks(12, 150)
    chunks.append(scored([BASE, *FORWARDS, EVERYDAY_A, EVERYDAY_B], reach=list(range(9))))
    sequential = build(chunks, reach_column="views")
    merged = _merged([chunks[:4], chunks[4:9], chunks[9:]], reach_column="views")
    pd.testing.assert_frame_equal(merged.queue()[0], sequential.queue()[0])
    pd.testing.assert_frame_equal(merged.channels(), sequential.channels())
    assert merged.rows == sequential.rows


def test_forwarded_copies_in_different_partitions_collapse() -> None:
    parts = [[scored([text], [0.7 + 0.01 * i], channels=[f"kanal_{i}"])]
             for i, text in enumerate([BASE, *FORWARDS])]
    queue, _ = _merged(parts).queue()
    assert len(queue) == 1
    top = queue.iloc[0]
    assert top["copies"] == 7 and top["score"] == pytest.approx(0.76)
    assert top["channels"] == ", ".join(f"kanal_{i}" for i in range(7))
    assert top["text"] == BASE  # undated copies: the first seen represents the item


def test_pruned_partitions_keep_the_budgeted_queue() -> None:
    chunks, _ = _heavy_chunks(9, 200)
    sequential = build(chunks)
    parts = [build(chunks[i:i + 3]).prune(10) for i in range(0, 9, 3)]
    merged = parts[0].merge(parts[1]).merge(parts[2])
    want, want_covered = sequential.queue(budget=10)
    got, got_covered = merged.queue(budget=10)
    # the same items with the same scores; copies seen only in partitions where an item was
    # pruned are not counted, which can reorder items of equal score
    np.testing.assert_array_equal(got["score"], want["score"])
    # the same items (an item may show another copy: its earliest may have been pruned away)
    got_items = sequential.groups(got["text"].tolist()).tolist()
    want_items = sequential.groups(want["text"].tolist()).tolist()
    assert sorted(got_items) == sorted(want_items)
    copies = dict(zip(want_items, want["copies"]))
    assert all(0 < c <= copies[g] for g, c in zip(got_items, got["copies"]))
    # an item pruned in one partition but kept in another counts twice in the total:
    # after pruning, the covered share is a lower bound
    assert 0 < got_covered <= want_covered


def test_merge_refuses_different_labels() -> None:
    with pytest.raises(ValueError, match="different labels"):
        QueueBuilder(LABELS).merge(QueueBuilder(["radikalisme"]))


# -- provenance: where an item's copies came from ---------------------------------------------

def test_source_is_the_earliest_copy_and_message_ids_list_every_copy() -> None:
    chunk = scored([BASE, "FWD: " + BASE, BASE + " 🔥", EVERYDAY_A], [0.9, 0.8, 0.95, 0.1],
                   channels=["a", "b", "c", "d"])
    chunk["date"] = ["2026-11-03", "2026-11-01", None, "2026-11-02"]
    chunk["message_id"] = [11, 12, 13, 14]
    chunk["_file"], chunk["_line"] = "x.csv", [2, 3, 4, 5]
    builder = QueueBuilder(LABELS)
    builder.add(chunk, text_column="message", channel_column="channel", date_column="date",
                id_column="message_id")
    queue, _ = builder.queue()
    assert list(queue.columns) == COLUMNS
    top = queue.iloc[0]
    assert top["source"] == "b/12"  # dated earliest, though not the highest-scoring copy
    assert top["message_ids"] == "b/12; a/11; c/13"  # in date order, undated last
    assert queue.iloc[1]["source"] == "d/14"


def test_source_falls_back_to_file_and_line_and_survives_merge_and_prune() -> None:
    first = scored([BASE, EVERYDAY_A], [0.9, 0.1])
    first["_file"], first["_line"] = "a.csv", [7, 8]
    second = scored(["FWD: " + BASE], [0.9])
    second["_file"], second["_line"] = "b.csv", [2]
    left, right = build([first]), build([second])
    queue, _ = left.merge(right).prune(1).queue()
    assert queue["source"].tolist() == ["a.csv:7"] and queue["message_ids"].tolist() == [""]
    assert queue["copies"].tolist() == [2]


def test_message_ids_are_capped_and_counted(monkeypatch) -> None:
    import kanalml.rank as rank

    monkeypatch.setattr(rank, "MAX_IDS", 2)
    chunk = scored([BASE] * 4, [0.9] * 4)
    chunk["message_id"] = [1, 2, 3, 4]
    builder = QueueBuilder(LABELS)
    builder.add(chunk, text_column="message", channel_column=None, date_column="date",
                id_column="message_id")
    assert builder.queue()[0]["message_ids"].tolist() == ["1; 2; +2 more"]


@pytest.mark.parametrize("text, expected", [
    ("hubungi ０８１２－３４５６－７８９０ ya", "hubungi [telepon] ya"),
    ("WA ＋６２ ８１２ ３４５６ ７８９０", "WA [telepon]"),
    ("tulis ke budi [at] gmail [dot] com", "tulis ke [email]"),
    ("tulis ke budi(at)gmail.com sekarang", "tulis ke [email] sekarang"),
    ("Budi.S {AT} mail (titik) co (dot) id!", "[email]!"),
])
def test_mask_pii_sees_through_full_width_digits_and_spelled_addresses(text, expected) -> None:
    assert mask_pii(text) == expected


@pytest.mark.parametrize("text", ["rapat (at) balai desa", "tahun (2024) [at] rumah",
                                  "skor ３－１ untuk timnas"])
def test_mask_pii_keeps_look_alikes(text) -> None:
    assert mask_pii(text) == text


def test_an_excerpt_never_shows_the_start_of_a_number_cut_off() -> None:
    from kanalml.rank import EXCERPT_CHARS, excerpt

    text = " " * (EXCERPT_CHARS * 8 - 10) + "0812-3456-7890 tegakkan khilafah"  # cut in the number
    assert "0812" not in excerpt(text) and "3456" not in excerpt(text)

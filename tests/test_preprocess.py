"""kanalml.preprocess: normalization, tokenization, stemming, and the sklearn-style Preprocessor."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from kanalml.preprocess import Preprocessor, normalize, preprocess, tokenize


def squash(text: str) -> str:
    """Collapse whitespace runs: placeholders come padded with spaces."""
    return " ".join(text.split())


# --- normalize: text-level folding -------------------------------------------------------

NORMALIZE_CASES = [
    pytest.param("ｂｏｍ", "bom", id="nfkc-fullwidth"),
    pytest.param("𝐛𝐨𝐦 𝑘𝑎𝑓𝑖𝑟", "bom kafir", id="nfkc-math-bold-italic"),
    pytest.param("ＫＡＦＩＲ", "kafir", id="nfkc-fullwidth-upper"),
    pytest.param("KaFiR Dan MUNAFIK", "kafir dan munafik", id="lowercase"),
    pytest.param("STRAẞE", "strasse", id="casefold"),
    pytest.param("ka\u200bfir", "kafir", id="zero-width-space"),
    pytest.param("\ufeffka\u200d\u200cfi\u2060r\u00ad", "kafir", id="zero-width-mixed"),
    pytest.param("kаfir", "kafir", id="cyrillic-a"),
    pytest.param("kаfіr", "kafir", id="cyrillic-a-i"),
    pytest.param("ΚΑFIR", "kafir", id="greek-upper"),
    pytest.param("јіhаd", "jihad", id="cyrillic-jiha"),
    pytest.param("lihat https://example.com/berita?id=1 ya", "lihat _url_ ya", id="url-https"),
    pytest.param("buka www.example.com/x sekarang", "buka _url_ sekarang", id="url-www"),
    pytest.param("cek example.co.id/artikel", "cek _url_", id="url-bare-domain"),
    pytest.param("halo @budi_88 apa kabar", "halo _mention_ apa kabar", id="mention"),
    pytest.param("kirim ke budi.s@example.co.id ya", "kirim ke _email_ ya", id="email"),
    pytest.param("hubungi 081234567890", "hubungi _phone_", id="phone-08"),
    pytest.param("wa +62 812-3456-7890 saja", "wa _phone_ saja", id="phone-plus62"),
    pytest.param("telp 0812 3456 7890", "telp _phone_", id="phone-spaced"),
    pytest.param("sms 62812345678", "sms _phone_", id="phone-62"),
    pytest.param("tahun 2024 ada 300 orang", "tahun 2024 ada 300 orang", id="not-a-phone"),
    pytest.param("#BubarkanPKI sekarang", "bubarkan pki sekarang", id="hashtag-camel"),
    pytest.param("&quot;kafir&quot; &amp; munafik", '"kafir" & munafik', id="html-entities"),
    pytest.param("baris satu\\nbaris dua\\tbaris tiga", "baris satu baris dua baris tiga",
                 id="escaped-newline-tab"),
    # Quote tags go, the quoted words stay: quoting propaganda re-broadcasts it.
    pytest.param("[QUOTE=jessepinkman16;5a50ac34]isi kutipan orang lain[/QUOTE] balasan saya",
                 "isi kutipan orang lain balasan saya", id="kaskus-quote"),
    pytest.param("[quote]kutipan\nbaris dua[/quote]balasan", "kutipan baris dua balasan",
                 id="quote-multiline"),
    pytest.param("[b]tebal[/b] [url=http://example.com]tautan[/url] [COLOR=red]merah[/COLOR]",
                 "tebal tautan merah", id="bbcode-tags"),
    pytest.param("<b>tebal</b> <a href='x'>tautan</a>", "tebal tautan", id="html-tags"),
]


@pytest.mark.parametrize(("text", "expected"), NORMALIZE_CASES)
def test_normalize(text: str, expected: str) -> None:
    assert squash(normalize(text)) == expected


# --- tokenize: surface tokens -------------------------------------------------------------

TOKEN_CASES = [
    pytest.param("#BubarkanPKI", ["bubarkan", "pki"], id="hashtag-camel"),
    pytest.param("#bubarkan #khilafah", ["bubarkan", "khilafah"], id="hashtag-plain"),
    pytest.param("lihat https://example.com/a/b?c=d ya", ["lihat", "_url_", "ya"], id="url"),
    pytest.param("tegakkan KHILAFAH!!!", ["tegakkan", "khilafah"], id="punctuation"),
    pytest.param("dasar K4F1R", ["dasar", "k4f1r"], id="leet-kept-as-written"),
    pytest.param("j!had dan $yahid", ["j!had", "dan", "$yahid"], id="symbols-kept-in-token"),
    pytest.param("b o m", ["bom"], id="spaced-letters"),
    pytest.param("awas b o m di sana", ["awas", "bom", "di", "sana"], id="spaced-letters-in-text"),
    pytest.param("b . o . m", ["bom"], id="spaced-dots"),
    pytest.param("💣🔥", ["💣", "🔥"], id="emoji"),
    pytest.param("baris1\\nbaris2", ["baris1", "baris2"], id="escaped-newline"),
]


@pytest.mark.parametrize(("text", "expected"), TOKEN_CASES)
def test_tokenize(text: str, expected: list[str]) -> None:
    assert tokenize(text) == expected


# Markup and placeholder cases found while writing this suite; each one currently leaks words
# (or loses one) - see the test ids.
EDGE_TOKEN_CASES = [
    pytest.param("[quote=a]luar [quote=b]dalam[/quote] luar lagi[/quote] balasan saya",
                 ["luar", "dalam", "luar", "lagi", "balasan", "saya"],
                 id="nested-kaskus-quote-tags"),
    pytest.param("dasar [kafir] semua", ["dasar", "kafir", "semua"], id="bracketed-word-kept"),
    pytest.param("baca https://example.com/page#KafirSemua", ["baca", "_url_"],
                 id="url-fragment-is-part-of-url-not-a-hashtag"),
    pytest.param("baca https://medium.com/@budi/artikel-bagus", ["baca", "_url_"],
                 id="url-with-at-sign-is-one-url"),
    pytest.param("＃BubarkanPKI", ["bubarkan", "pki"], id="fullwidth-hashtag-like-ascii-hashtag"),
]


@pytest.mark.parametrize(("text", "expected"), EDGE_TOKEN_CASES)
def test_tokenize_markup_edge_cases(text: str, expected: list[str]) -> None:
    assert tokenize(text) == expected


def test_square_brackets_around_a_word_do_not_delete_it() -> None:
    # "[kafir]" is not a BBCode tag; dropping it lets anyone hide a word from the model.
    assert "kafir" in tokenize("dasar [kafir] semua")
    assert "kafir" in preprocess("dasar [kafir] semua")


# --- preprocess: stems --------------------------------------------------------------------

STEM_CASES = [
    pytest.param("bangeeeet", ["banget"], id="elongation-banget"),
    pytest.param("mantaaap", ["mantap"], id="elongation-mantap"),
    pytest.param("allah", ["allah"], id="double-letter-allah"),
    pytest.param("allaaaah", ["allah"], id="elongated-allah"),
    pytest.param("maaaaaf", ["maaf"], id="elongated-maaf"),
    pytest.param("taaaat", ["taat"], id="elongated-taat"),
    pytest.param("anak-anak", ["anak"], id="reduplication-hyphen"),
    pytest.param("anak2", ["anak"], id="reduplication-2"),
    pytest.param("anak2nya", ["anak"], id="reduplication-2-suffix"),
    pytest.param("k4f1r", ["kafir"], id="leet-k4f1r"),
    pytest.param("K4F1R", ["kafir"], id="leet-upper"),
    pytest.param("b0m", ["bom"], id="leet-b0m"),
    pytest.param("j!had", ["jihad"], id="symbol-j!had"),
    pytest.param("$yahid", ["syahid"], id="symbol-$yahid"),
    pytest.param("b.o.m", ["bom"], id="dotted"),
    pytest.param("b-o-m", ["bom"], id="dashed"),
    pytest.param("b o m", ["bom"], id="spaced"),
    pytest.param("kâfir", ["kafir"], id="accent-disguise"),
    pytest.param("gak", ["tidak"], id="slang-gak"),
    pytest.param("tdk", ["tidak"], id="slang-tdk"),
    pytest.param("nggak", ["tidak"], id="slang-nggak"),
    pytest.param("bgt", ["banget"], id="slang-bgt"),
    pytest.param("org", ["orang"], id="slang-org"),
    pytest.param("💣", ["bom"], id="emoji-bomb"),
    pytest.param("🔥", ["api"], id="emoji-fire"),
    pytest.param("membunuh", ["bunuh"], id="stem-membunuh"),
    pytest.param("pengeboman", ["bom"], id="stem-pengeboman"),
    pytest.param("#BubarkanPKI", ["bubar", "pki"], id="hashtag-stems"),
    pytest.param("kunjungi https://example.com @admin", ["kunjung", "_url_", "_mention_"],
                 id="placeholders-survive"),
]


@pytest.mark.parametrize(("text", "expected"), STEM_CASES)
def test_preprocess_stems(text: str, expected: list[str]) -> None:
    assert preprocess(text) == expected


@pytest.mark.parametrize(("elongated", "word", "squeezed_too_far"), [
    ("saaaat", "saat", "sat"),
    ("allaaaah", "allah", "alah"),
    ("maaaaaf", "maaf", "maf"),
])
def test_elongation_keeps_real_double_letters(elongated: str, word: str,
                                              squeezed_too_far: str) -> None:
    # the double letter is real: the word must not be confused with its one-letter form
    assert tokenize(word) == [word]
    assert preprocess(word) != preprocess(squeezed_too_far)
    assert preprocess(elongated) == preprocess(word)


def test_reduplication_kita2_is_kita_kita() -> None:
    assert preprocess("kita2") == preprocess("kita-kita")
    assert preprocess("kita2") == preprocess("kita")
    assert preprocess("kita2") != []


def test_slang_yg_expands_to_stopword_yang() -> None:
    assert preprocess("orang yg baik") == preprocess("orang yang baik")
    assert "yg" not in preprocess("orang yg baik")


def test_stopwords_removed_negations_kept() -> None:
    stems = preprocess("saya tidak setuju dan bukan karena itu, jangan dan belum")
    for negation in ("tidak", "bukan", "jangan", "belum"):
        assert negation in stems
    for stopword in ("dan", "karena", "itu", "yang"):
        assert stopword not in stems
    # 'gak', 'tdk', 'nggak' share the one 'tidak' form
    assert preprocess("gak setuju") == preprocess("tdk setuju") == preprocess("tidak setuju")


def test_obfuscated_and_plain_posts_match() -> None:
    plain = preprocess("bubarkan pemerintah thaghut, tegakkan khilafah, dasar kafir")
    disguised = preprocess("BUBARKAN pemerintah #Thaghut, tegakkan k.h.i.l.a.f.a.h, dasar k4f1r")
    assert disguised == plain


# --- totality and determinism -------------------------------------------------------------

def _blobs() -> list[bytes]:
    rng = np.random.default_rng(20240601)
    return [rng.bytes(int(rng.integers(0, 400))) for _ in range(200)]


BLOBS = _blobs()
WEIRD = [
    pytest.param(None, id="None"),
    pytest.param(float("nan"), id="nan"),
    pytest.param(np.nan, id="np.nan"),
    pytest.param(np.float32("nan"), id="np.float32-nan"),
    pytest.param(0, id="int-0"),
    pytest.param(-42, id="int"),
    pytest.param(10**40, id="bigint"),
    pytest.param(3.5, id="float"),
    pytest.param(math.inf, id="inf"),
    pytest.param(True, id="bool"),
    pytest.param(b"dasar k4f1r", id="bytes"),
    pytest.param(b"\xff\xfe\xc3\x28\xa0\xa1", id="invalid-utf8"),
    pytest.param(bytearray(b"bom"), id="bytearray"),
    pytest.param("", id="empty"),
    pytest.param(" \t\n\r\u3000\u00a0 ", id="only-whitespace"),
    pytest.param("!!!???...,,,;;;---***", id="only-punctuation"),
    pytest.param("💣🔥😀👍🏽🇮🇩", id="only-emoji"),
    pytest.param("\ud800", id="lone-high-surrogate"),
    pytest.param("ab\udc80cd", id="lone-low-surrogate"),
    pytest.param("\ud83d\udca3 bom", id="split-surrogate-pair"),
    pytest.param("\x00\x01\x7f\x9f", id="control-chars"),
    pytest.param("[quote][quote]", id="unclosed-quote"),
    pytest.param("#" * 1000 + "@" * 1000, id="markup-runs"),
    pytest.param("a" * 10_000, id="long-run"),
]
FUNCTIONS = [normalize, tokenize, preprocess]


def _check_result(func, value, result) -> None:
    if func is normalize:
        assert isinstance(result, str)
    else:
        assert isinstance(result, list)
        assert all(isinstance(t, str) and t for t in result)


@pytest.mark.parametrize("func", FUNCTIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("value", WEIRD)
def test_total_and_deterministic(func, value) -> None:
    first = func(value)
    _check_result(func, value, first)
    assert func(value) == first


@pytest.mark.parametrize("value", WEIRD)
def test_fresh_preprocessor_agrees_with_preprocess(value) -> None:
    expected = preprocess(value)
    assert Preprocessor().analyze(value) == expected
    assert Preprocessor().transform([value]) == [" ".join(expected)]


def test_missing_values_are_empty() -> None:
    for value in (None, float("nan"), np.nan):
        assert normalize(value) == ""
        assert tokenize(value) == []
        assert preprocess(value) == []


def test_bytes_are_decoded_as_utf8() -> None:
    assert preprocess(b"dasar k4f1r") == preprocess("dasar k4f1r")
    assert tokenize("ｂｏｍ".encode()) == tokenize("ｂｏｍ")


@pytest.mark.parametrize("func", FUNCTIONS, ids=lambda f: f.__name__)
def test_random_binary_blobs(func) -> None:
    for blob in BLOBS:
        for value in (blob, blob.decode("utf-8", errors="surrogateescape")):
            first = func(value)
            _check_result(func, value, first)
            assert func(value) == first


def test_random_blobs_fresh_preprocessor() -> None:
    values = [v for b in BLOBS for v in (b, b.decode("utf-8", errors="surrogateescape"))]
    assert Preprocessor().transform(values) == [" ".join(preprocess(v)) for v in values]


def test_one_megabyte_string() -> None:
    text = ("dasar k4f1r bangeeeet #BubarkanPKI https://example.com 💣 " * 20_000)[:1_000_000]
    assert len(text) == 1_000_000
    norm = normalize(text)
    assert isinstance(norm, str)
    tokens = tokenize(text)
    stems = preprocess(text)
    assert tokens[:2] == ["dasar", "k4f1r"]
    assert stems[:3] == ["dasar", "kafir", "banget"]
    assert preprocess(text) == stems


def test_one_megabyte_single_token() -> None:
    for text in ("a" * 1_000_000, "x." * 500_000, "k4" * 500_000):
        assert isinstance(preprocess(text), list)
        assert isinstance(normalize(text), str)


# --- Preprocessor as an sklearn transformer -----------------------------------------------

TEXTS = [
    "Bubarkan pemerintah thaghut, tegakkan khilafah!",
    "demokrasi sistem kafir, hanya khilafah solusi",
    "cuaca hari ini cerah, jalan sudirman lancar",
    "makan siang nasi padang enak bangeeet",
    "mati syahid demi khilafah, lawan rezim thaghut",
    "macet parah di tol, hujan deras dari pagi",
    "hancurkan th4ghut, tegakkan khilafah",
    "anak2 libur sekolah, jalan-jalan ke taman",
]
Y = [1, 1, 0, 0, 1, 0, 1, 0]


def test_fit_learns_stem_table_and_transform_joins_stems() -> None:
    pre = Preprocessor()
    assert pre.fit(TEXTS) is pre
    tokens = {t for text in TEXTS for t in tokenize(text)}
    assert set(pre.stem_table_) == tokens
    for stems, form in pre.stem_table_.values():
        assert isinstance(stems, tuple) and isinstance(form, str)
    assert pre.analyze_token("k4f1r") == (("kafir",), "kafir")
    assert pre.analyze_token("yg") == ((), "yang")  # stopword: no stem, but a word form
    out = pre.transform(TEXTS)
    assert isinstance(out, list) and len(out) == len(TEXTS)
    assert out == [" ".join(pre.analyze(t)) for t in TEXTS]
    assert out[0] == "bubar perintah thaghut tegak khilafah"
    assert pre.fit_transform(TEXTS) == out


def test_fit_recovers_training_words_from_leetspeak() -> None:
    # 'thaghut' is in no dictionary; once seen in training, 'th4ghut' decodes to it
    pre = Preprocessor().fit(TEXTS)
    assert pre.stems("th4ghut") == pre.stems("thaghut") == ("thaghut",)
    assert "thaghut" in pre.transform(["hancurkan th4ghut"])[0]


def test_get_params_set_params() -> None:
    pre = Preprocessor()
    assert pre.get_params() == {"cache_size": 500_000, "content_only": False}
    assert pre.set_params(cache_size=7) is pre
    assert pre.get_params()["cache_size"] == 7


def test_content_only_drops_the_writers_voice() -> None:
    """Pronouns, address, modals and "admin" give neither a stem nor a word form; negations
    and content words stay; the default preprocessor keeps pronouns as before."""
    post = "Kalian wajib hubungi admin, kami tidak takut mereka"
    voice = Preprocessor(content_only=True)
    assert voice.analyze(post) == ["hubung", "tidak", "takut"]
    assert [voice.analyze_token(t)[1] for t in ("kalian", "admin", "kami", "takut")] == \
        ["", "", "", "takut"]
    assert voice.analyze_token("gw")[1] == ""  # slang for a pronoun too
    assert "kalian" in Preprocessor().analyze(post)


def test_small_cache_gives_same_stems() -> None:
    pre = Preprocessor(cache_size=2)
    assert pre.transform(TEXTS) == Preprocessor().transform(TEXTS)


def test_sklearn_clone() -> None:
    from sklearn.base import clone

    fitted = Preprocessor(cache_size=1000).fit(TEXTS)
    copy = clone(fitted)
    assert copy is not fitted
    assert copy.get_params() == fitted.get_params()
    assert not hasattr(copy, "stem_table_")
    assert copy.fit(TEXTS).transform(TEXTS) == fitted.transform(TEXTS)


def test_inside_sklearn_pipeline() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    pipe = Pipeline([("pre", Preprocessor()), ("tfidf", TfidfVectorizer()),
                     ("clf", LogisticRegression(C=10))])
    pipe.fit(TEXTS, Y)
    manual = TfidfVectorizer().fit(Preprocessor().fit_transform(TEXTS))
    assert pipe.named_steps["tfidf"].vocabulary_ == manual.vocabulary_
    assert "thaghut" in manual.vocabulary_ and "bubar" in manual.vocabulary_
    proba = pipe.predict_proba(["tegakkan khilafah, lawan thaghut", "jalan macet, hujan deras"])
    assert proba[0, 1] > proba[1, 1]
    pipe.set_params(pre__cache_size=5)
    assert pipe.named_steps["pre"].cache_size == 5


@pytest.mark.parametrize("token, stems", [
    ("k4f1r-k4f1r", ("kafir",)),        # leetspeak inside a reduplication
    ("k4f1r2", ("kafir",)),
    ("b0m2", ("bom",)),
    ("jihaaaad", ("jihad",)),           # squeezed to the dictionary form, not a noisy token
    ("allaaaah", ("allah",)),
    ("g30s", ("30",)),                  # lone letters split off digits are not slang ("g")
])
def test_disguised_tokens(token: str, stems: tuple[str, ...]) -> None:
    assert Preprocessor().stems(token) == stems


@pytest.mark.parametrize("text, tokens", [
    ("#k.a.f.i.r", ["k.a.f.i.r"]),
    ("#j!had sekarang", ["j!had", "sekarang"]),
    ("https://example.com/page#KafirSemua", ["_url_"]),
])
def test_hashtags_keep_disguised_words_whole(text: str, tokens: list[str]) -> None:
    assert tokenize(text) == tokens


# Posts whose chunks' tokens depend on their neighbours: tags with attributes, phone numbers
# across spaces, spaced-out letters, a "Www." in a post with "www.", entities for whitespace.
CHUNK_CASES = [
    "[quote=abu jihad]bubarkan thaghut[/quote] setuju",
    "<a href=x title='k a f i r'>link</a> lihat",
    "hubungi 0812 3456 7890 sekarang",
    "hubungi +62 812-3456-7890 ya",
    "ini b o m 💣 bukan mainan",
    "(b . o . m) dan b.o.m 💣",
    "kata x lalu y",
    "Www.contoh.com dan www.lain.com",
    "nomor 0812&#10;3456&#10;7890 ok",
    "halo\u00a0semua\u3000apa kabar\u2028k4f1r",
    "A B C D",
    "2018 2019 08123",
]


@pytest.mark.parametrize("text", CHUNK_CASES + [c.values[0] for c in TOKEN_CASES]
                         + [c.values[0] for c in EDGE_TOKEN_CASES])
def test_chunked_tokens_equal_whole_text_tokens(text) -> None:
    from kanalml.preprocess import tokenize_chunked

    assert tokenize_chunked(text) == tokenize(text)


def test_indonlp_data_read_from_its_files_equal_the_package_import() -> None:
    """The lexicon reads indoNLP's data modules without importing the package (its downloader
    costs most of the time); what it reads is what the package exports."""
    import indoNLP.preprocessing as indonlp

    from kanalml.preprocess import _indonlp_data

    slang, stopwords, emoji = _indonlp_data()
    assert slang == indonlp.SLANG_DATA and stopwords == indonlp.STOPWORDS
    assert emoji == indonlp.EMOJI_DATA and len(slang) > 4000


def test_scoring_one_post_imports_neither_pandas_nor_indonlp() -> None:
    code = ("import sys, kanalml\nkanalml.score('bubarkan thaghut, tegakkan khilafah')\n"
            "print(sorted(m for m in ('pandas', 'indoNLP', 'sklearn', 'scipy.sparse') "
            "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=120)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr

"""Indonesian social-media text -> normalized surface tokens -> stems.

Two levels, because they cost differently:

* :func:`normalize` and :func:`tokenize` work on the whole text (Unicode folding,
  markup, placeholders, split letters). They run once per post.
* :meth:`Preprocessor.analyze_token` turns one surface token (``k4f1r``,
  ``bangeeet``, ``kita2``, ``yg``, an emoji) into standard Indonesian stems and
  a normalized word form. Its result depends
  only on the token, so it is computed once per distinct token and cached; the
  table learned in training travels inside the model, so scoring new posts
  seldom stems (:mod:`kanalml.stemmer`, PySastrawi's results, 45-51x faster).
* :func:`chunk_tokens` tokenizes one whitespace-free piece of a post and flags
  when its tokens may depend on the pieces around it (:func:`needs_whole_text`),
  so a caller can cache tokens per piece and still get :func:`tokenize`'s tokens.

Everything here is total: any input (None, NaN, numbers, bytes, binary junk,
megabyte strings) gives a result, never an exception.
"""

from __future__ import annotations

import html
import re
import threading
import unicodedata
from collections.abc import Callable, Iterable
from typing import Any

from kanalml import lexicon, stemmer

PLACEHOLDERS = ("_url_", "_email_", "_mention_", "_phone_")

# Negations carry meaning ("tidak setuju jihad"); the 'tidak' family shares one form.
_TIDAK = {"tidak", "tak", "enggak", "nggak", "ngga", "gak", "ga", "kagak", "ndak", "nda", "tdk",
          "gk"}
NEGATIONS = frozenset(_TIDAK | {"bukan", "jangan", "belum", "tiada", "tanpa"})

# Function words go; pronouns ("kita" vs "mereka"), modals and quantifiers stay: in-group /
# out-group language and commands are what propaganda is made of (+0.007 CV AP, measured).
_KEPT = NEGATIONS | frozenset(
    "aku saya kamu anda kita kami kalian mereka dia ia diri dirinya kitalah kamilah merekalah "
    "harus haruslah harusnya boleh pasti semua semuanya seluruh seluruhnya bapak ibu keluar "
    "besar kecil kasus masalah pihak umum bung pak wahai".split())

# What a content-only preprocessor (``Preprocessor(content_only=True)``) also drops: the words
# that carry a writer's voice rather than what a post says - pronouns and address, modals and
# quantifiers, and a channel's housekeeping ("hubungi admin", "japri mimin"). Kept as features
# they made the model score "Kalian" 0.99 and "Admin" 1.00 (issue 19): the written corpus's
# extremist posts speak as kami to kalian and end with "hubungi admin", and so do charity
# appeals, team chants and kajian announcements. It also takes back the few other words that
# _KEPT saves from indoNLP's stopword list (keluar, besar, kecil, kasus, masalah, pihak, umum):
# the shipped ekstremisme-v3 was trained without them.
VOICE = frozenset(_KEPT - NEGATIONS) | frozenset(
    "kau engkau dikau kalian kamu anda antum ana ane ente gue gw gua lu lo loe elo elu "
    "kami kita mereka beliau dia ia aku saya daku -nya nya mu ku "
    "admin admins mimin min minn adminnya japri pm dm inbox wa "
    "wajib wajiblah harus haruslah harusnya mesti mestinya boleh pasti perlu "
    "semua semuanya seluruh seluruhnya segala setiap tiap para "
    "wahai hai saudara saudaraku saudari bapak ibu bung pak bu mas mbak kak akhi ukhti".split())

_ZERO_WIDTH = "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b\u200c\u200d\u200e\u200f" \
    "\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064\ufeff"
# Cyrillic and Greek letters that look like Latin ones, as they appear after casefold.
_LOOKALIKES = {
    "а": "a", "в": "b", "е": "e", "ё": "e", "з": "3", "и": "u", "і": "i", "ї": "i", "ј": "j",
    "к": "k", "м": "m", "н": "h", "о": "o", "п": "n", "р": "p", "с": "c", "т": "t", "у": "y",
    "х": "x", "ѕ": "s", "ԁ": "d", "һ": "h", "ӏ": "l", "ԛ": "q", "ԝ": "w", "ь": "b",
    "α": "a", "β": "b", "γ": "y", "ε": "e", "η": "n", "ι": "i", "κ": "k", "μ": "u", "ν": "v",
    "ο": "o", "ρ": "p", "σ": "o", "ς": "s", "τ": "t", "υ": "u", "χ": "x", "ω": "w",
}
_FOLD = str.maketrans({**{c: " " for c in "\t\n\r\x0b\x0c\x85\u2028\u2029"},
                       **{c: None for c in _ZERO_WIDTH}, **_LOOKALIKES,
                       **{k.upper(): v.upper() for k, v in _LOOKALIKES.items() if k.upper() != k}})

_ESCAPED_WS = re.compile(r"\\[nrt]")
# Tweets scraped as bytes keep emoji as literal escapes ("\\xf0\\x9f\\x98\\x82"): noise, not words.
_ESCAPED_BYTES = re.compile(r"\\x[0-9a-f]{2}", re.I)
# Kaskus/BBCode tags go, their content stays: a quoted post is re-broadcast by quoting it
# (and keeping it measured +0.002 CV AP). Only known tag names, so "[kafir]" is not hidden.
_MARKUP = re.compile(
    r"\[/?(?:quote|b|i|u|s|img|url|color|size|font|center|left|right|spoiler|code|list|li|\*|hr"
    r"|youtube|email|indent|align|highlight|sub|sup|table|tr|td|th|strike|mention|media|video"
    r"|html|php|noparse)(?:=[^\]]{0,200})?\]|</?[a-z][^<>]{0,200}>", re.I)
_HASHTAG = re.compile(r"#([$]?\w+(?:[-'@$!|*.]+\w+)*)")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}", re.I)
_MENTION = re.compile(r"@(?<![\w@]@)\w+")
_TLD = r"\.(?:com|net|org|id|co|me|ly|io|info|xyz)\b"
_HAS_TLD = re.compile(_TLD, re.I)
_URL = re.compile(r"(?:[a-z][a-z0-9+.-]*://|www\.)\S+", re.I)
_DOMAIN = re.compile(rf"\b(?:[a-z0-9-]+\.)*[a-z0-9-]+{_TLD}(?:/\S*)?", re.I)
_HAS_PHONE = re.compile(r"\d{3}")
_PHONE = re.compile(r"(?<![\w+])(?:\+62|62|0)[ .-]?8\d{1,3}(?:[ .-]?\d{2,4}){2,3}(?!\w)")
_FOLDABLE = re.compile("[" + re.escape("".join(chr(c) for c in _FOLD)) + "\x00-\x1f\x7f-\x9f"
                       "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe00-\ufe0f\ufe20-\ufe2f]")
_COMBINING = re.compile(
    "[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe00-\ufe0f\ufe20-\ufe2f]")
_SPLIT_LETTERS = re.compile(r"(?<!\w)[a-z](?P<sep> ?[.\-_*] ?| )[a-z](?:(?P=sep)[a-z])+(?!\w)")
_SPLIT_SEPARATORS = re.compile(r"[ .\-_*]")
_DOTTED = re.compile(r"^[a-z](?:[.\-_*][a-z])+$")
_EMOJI = "\u2300-\u23ff\u2600-\u27bf\u2b00-\u2bff\U0001f000-\U0001faff"
_TOKEN = re.compile(rf"[$]?\w+(?:[-'@$!|*.]+\w+)*|[{_EMOJI}]")
_IS_EMOJI = re.compile(rf"[{_EMOJI}]")

_LEET = {"4": "a", "@": "a", "3": "e", "1": "i", "!": "i", "0": "o", "5": "s", "$": "s",
         "7": "t", "8": "b", "9": "g", "6": "g", "|": "l"}
_LEET_ALT = {"1": "l", "|": "i", "6": "b", "9": "q"}
_LEET_CHARS = re.compile(r"[4@31!05$7896|]")
_SEPARATORS = re.compile(r"[^\w]+|_+|(?<=\d)(?=[^\W\d_])|(?<=[^\W\d_])(?=\d)|-")
_WORD = re.compile(r"^[^\W\d_]+(?:-[^\W\d_]+)*$")
_STEMMABLE = re.compile(r"^[a-z]+(?:-[a-z]+)*$")
_RUN3 = re.compile(r"(\w)\1{2,}")
_REDUP = re.compile(r"^(\w{2,}?)2(nya|an|lah|kah|mu|ku)?$")
_NUMERIC = re.compile(r"^[\d.,'-]+$")


def as_text(value: Any) -> str:
    """Any value -> str, never raising; None and NaN become ''."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, float) and value != value:
        return ""
    try:
        return str(value)
    except Exception:  # an object whose __str__ fails must not stop a batch
        return ""


def _fold_unicode(text: str) -> str:
    """NFKC, then drop combining marks and zero-width characters and map look-alikes; case kept."""
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    if _FOLDABLE.search(text):
        text = _COMBINING.sub("", text).translate(_FOLD)
    return text


def normalize(text: Any) -> str:
    """Fold one post to lowercase text with placeholders.

    Handles escaped newlines, HTML entities and tags, Kaskus/BBCode tags, Unicode
    compatibility forms, combining marks, zero-width and control characters,
    look-alike letters, URLs, emails, mentions, phone numbers and camel-cased
    hashtags, in an order where none of them hides another.
    """
    return _normalize(as_text(text))


# What a whitespace-free chunk of a post tells about its neighbours (see chunk_tokens).
CONTEXT = 1  # an unclosed tag, a "www." the post's URL gate may let through, or whitespace
#              that the fold of a non-ASCII post would change
ONE_CHAR = 2  # a token of one character: the post's spaced-out letters get looked for
SPLIT = 4  # spaced-out letters within the chunk
LETTER = 8  # a one-letter token: maybe one of spaced-out letters across chunks
LEADS_DIGIT = 16  # starts / ends with a digit before phone numbers are replaced: a phone
ENDS_DIGIT = 32  # number may run across the space between two chunks
# A word and trailing punctuation (most chunks): its token is the word in lower case. Cut
# new chunks' cost by ~10 us each (the steps' gates and searches), a third of a new post's.
# Quotes and brackets around it change no step either, nor the token (a quote joins words
# only between two of them): 2,126 more of the re_dataset stream's 21,132 new chunks.
_PLAIN_CHUNK = re.compile(r"[(\"']*([A-Za-z]+)[,.!?;:'\")]*")
_FOLD_SPACE = re.compile("[\t\n\r\x0b\x0c]")
_ANY_WWW = re.compile(r"www\.", re.I)
# A tag whose match could run past the chunk: only attributes and HTML tags hold spaces.
_MARKUP_OPEN = re.compile(_MARKUP.pattern.split("(?:=")[0] + r"=[^\]]*\Z|</?[a-z][^<>]*\Z",
                          re.I)


def _normalize(text: str, marks: list[int] | None = None) -> str:
    """:func:`normalize` of a str; with ``marks``, its first item gets the flags above."""
    if "\\" in text:
        text = _ESCAPED_BYTES.sub(" ", _ESCAPED_WS.sub(" ", text))
    if "&" in text:
        text = html.unescape(text)
    if "[" in text or "<" in text:
        if marks is not None and _MARKUP_OPEN.search(text):
            marks[0] |= CONTEXT
        text = _MARKUP.sub(" ", text)
    if not text.isascii():
        text = _fold_unicode(text)
    elif marks is not None and _FOLD_SPACE.search(text):  # folded in a non-ASCII post
        marks[0] |= CONTEXT
    if "://" in text or "www." in text or "WWW." in text:
        text = _URL.sub(" _url_ ", text)
    elif marks is not None and _ANY_WWW.search(text):  # "Www." is a URL if the post has "www."
        marks[0] |= CONTEXT
    if "@" in text:
        text = _MENTION.sub(" _mention_ ", _EMAIL.sub(" _email_ ", text))
    if _HAS_TLD.search(text):
        text = _DOMAIN.sub(" _url_ ", text)
    if marks is not None and text:
        marks[0] |= (LEADS_DIGIT if text[0].isdecimal() else 0) | \
            (ENDS_DIGIT if text[-1].isdecimal() else 0)
    if _HAS_PHONE.search(text):
        text = _PHONE.sub(" _phone_ ", text)
    if "#" in text:
        text = _HASHTAG.sub(lambda m: " " + _CAMEL.sub(" ", m.group(1)) + " ", text)
    return text.lower() if text.isascii() else text.casefold()


def tokenize(text: Any) -> list[str]:
    """Surface tokens of a post, after :func:`normalize`: words as written, and emoji.

    Letters split by spaces (``b o m``) are joined here; split by dots or dashes
    (``b.o.m``) they arrive as one token and are joined per token.
    """
    norm = normalize(text)
    tokens = _TOKEN.findall(norm)
    # Only posts with a one-letter token can hold spaced-out letters.
    if tokens and min(map(len, tokens)) == 1 and _SPLIT_LETTERS.search(norm):
        tokens = _TOKEN.findall(
            _SPLIT_LETTERS.sub(lambda m: _SPLIT_SEPARATORS.sub("", m.group()), norm))
    return tokens


def chunk_tokens(chunk: str) -> tuple[list[str], int, str]:
    """Tokens of one whitespace-free piece of a post (an item of ``text.split()``), flags
    saying when they may depend on the rest of the post, and its normalized text.

    A post's tokens are its chunks' tokens, in order, unless :func:`needs_whole_text`
    says otherwise from the chunks' flags: every other step of :func:`normalize` and
    the token pattern match within a chunk, since none of their patterns holds
    whitespace. Chunks recur across posts far more than posts do, so callers cache this.
    """
    tokens, _, flags, norms = chunks_tokens((chunk,))
    return tokens, flags[0], norms[0]


def chunks_tokens(chunks: Iterable[str]) -> tuple[list[str], list[int], list[int], list[str]]:
    """:func:`chunk_tokens` of many chunks: all their tokens in order, and per chunk its
    token count, flags and normalized text.

    Plain chunks (most) are done inline, with no call, tuple or list of their own.
    """
    tokens: list[str] = []
    counts: list[int] = []
    flags: list[int] = []
    norms: list[str] = []
    plain = _PLAIN_CHUNK.fullmatch
    for chunk in chunks:
        if match := plain(chunk):
            norm = chunk.lower()
            token = norm[match.start(1):match.end(1)]
            if not token.endswith("www"):  # no step of normalize applies
                tokens.append(token)
                counts.append(1)
                flags.append(ONE_CHAR | LETTER if len(token) == 1 else 0)
                norms.append(norm)
                continue
        found, flag, norm = _normalized_chunk_tokens(chunk)
        tokens += found
        counts.append(len(found))
        flags.append(flag)
        norms.append(norm)
    return tokens, counts, flags, norms


def _normalized_chunk_tokens(chunk: str) -> tuple[list[str], int, str]:
    """:func:`chunk_tokens` of a chunk that is not a plain word: every step run."""
    marks = [0]
    norm = _normalize(chunk, marks)
    tokens = _TOKEN.findall(norm)
    flags = marks[0]
    if tokens and min(map(len, tokens)) == 1:
        flags |= ONE_CHAR
        if any(len(t) == 1 and "a" <= t <= "z" for t in tokens):
            flags |= LETTER
    if _SPLIT_LETTERS.search(norm):
        flags |= SPLIT
    return tokens, flags, norm


def needs_whole_text(flags: list[int], norms: list[str]) -> bool:
    """Whether a post whose chunks have these :func:`chunk_tokens` flags and normalized
    texts must be tokenized whole (by :func:`tokenize`), not as its chunks' tokens."""
    seen = 0
    for previous, flag in zip([0, *flags], flags):
        seen |= flag
        if previous & ENDS_DIGIT and flag & LEADS_DIGIT:
            return True
    return bool(seen & CONTEXT) or (bool(seen & ONE_CHAR) and (
        bool(seen & SPLIT) or (bool(seen & LETTER) and split_across(norms))))


def split_across(norms: list[str]) -> bool:
    """Whether spaced-out letters may run across these chunks' normalized texts.

    Joined by one space, they hold every match the post's own normalized text holds
    (its matches cross whitespace only where it is one space), maybe more: a match
    here only sends the post to :func:`tokenize`.
    """
    return _SPLIT_LETTERS.search(" ".join(norms)) is not None


def tokenize_chunked(text: Any) -> list[str]:
    """:func:`tokenize` computed chunk by chunk (as a cached caller does): equal by design."""
    text = as_text(text)
    pieces = [chunk_tokens(chunk) for chunk in text.split()]
    if needs_whole_text([flags for _, flags, _ in pieces], [norm for _, _, norm in pieces]):
        return tokenize(text)
    return [token for tokens, _, _ in pieces for token in tokens]


def _indonlp_data() -> tuple[dict[str, str], Iterable[str], dict[str, dict[str, str]]]:
    """indoNLP's slang table, stopword list and emoji names, read from its three data modules.

    They are run from their files, not imported through ``indoNLP``: the package imports its
    dataset downloader (urllib.request and more) and compiles its patterns, 30 ms of the 35 ms
    this took, a tenth of a model load (measured). Nothing is added to ``sys.modules``. An
    indoNLP laid out otherwise is imported as usual.
    """
    import importlib.util

    spec = importlib.util.find_spec("indoNLP")
    folders = list(spec.submodule_search_locations or []) if spec else []
    files = ("slang_data.py", "stopwords_data.py", "emoji/emoji_data.py")
    names = ("SLANG_DATA", "STOPWORDS", "EMOJI_DATA")
    found = [f"{folders[0]}/preprocessing/{file}" for file in files] if folders else []
    values: list[Any] = []
    for path, name in zip(found, names):
        module_spec = importlib.util.spec_from_file_location(f"_kanalml_indonlp_{len(values)}",
                                                             path)
        if module_spec is None or module_spec.loader is None:
            break
        module = importlib.util.module_from_spec(module_spec)
        try:
            module_spec.loader.exec_module(module)
        except (OSError, ImportError):
            break
        if not hasattr(module, name):
            break
        values.append(getattr(module, name))
    if len(values) == len(names):
        return values[0], values[1], values[2]
    import indoNLP.preprocessing as indonlp  # pragma: no cover - another indoNLP layout

    return indonlp.SLANG_DATA, indonlp.STOPWORDS, indonlp.EMOJI_DATA


class _Lexicon:
    """Word lists, loaded on first need (they cost ~0.1 s to load)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded = False

    def load(self) -> None:
        """Load the word lists now (a model's warm-up does), not at the first new word."""
        with self._lock:
            if self._loaded:
                return
            slang, stopwords, emoji = _indonlp_data()
            self.roots = stemmer.default().words  # Sastrawi's dictionary
            self.slang = {k: v for k, v in slang.items() if k != v}
            self.emoji = emoji
            self.stopwords = frozenset(w for w in stopwords if w.isalpha()) - _KEPT
            self.content_stopwords = self.stopwords | VOICE
            self.known = self.roots | self.slang.keys() | self.stopwords | NEGATIONS
            self._loaded = True

    def __getattr__(self, name: str) -> Any:
        self.load()
        return self.__dict__[name]


LEXICON = _Lexicon()


def _stem(word: str) -> str:
    return stemmer.stem(word) or word  # no lock: the stemmer holds no mutable state


def _deleet(token: str, is_known: Callable[[str], bool]) -> str | None:
    """``k4f1r`` -> ``kafir`` when the decoded word is a known word, else None."""
    first = "".join(_LEET.get(c, c) for c in token)
    candidates = [first, "".join(_LEET_ALT.get(c, _LEET.get(c, c)) for c in token)]
    return next((c for c in candidates if c.isalpha() and is_known(c)), None)


def _squeeze(token: str) -> str:
    """Shorten runs of 3+ letters (``bangeeet``); double letters (``allah``, ``saat``) stay.

    The doubled form wins only if it is a dictionary, slang or stopword entry: noisy
    training tokens (``jihaad``) must not block ``jihaaaad`` -> ``jihad``.
    """
    twice = _RUN3.sub(r"\1\1", token)
    return twice if twice in LEXICON.known else _RUN3.sub(r"\1", token)


def _fold_accents(token: str) -> str:
    decomposed = unicodedata.normalize("NFD", token)
    kept = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", kept)


def _words(token: str, is_known: Callable[[str], bool]) -> list[str]:
    """One surface token -> standard Indonesian words (before stopwords and stemming)."""
    if _IS_EMOJI.fullmatch(token):
        name = LEXICON.emoji.get(token) or LEXICON.emoji.get(token + "\ufe0f")
        if not name or "warna_kulit" in name["id"]:
            return []
        return name["id"].replace("-", "_").split("_")
    if not token.isascii():
        token = _fold_accents(token)  # "kontòl", "allâh": accents used as disguise
    token = token.replace("'", "")
    if _DOTTED.match(token):
        token = _SPLIT_SEPARATORS.sub("", token)
    if _NUMERIC.match(token):
        return [re.sub(r"\D", "", token)] if any(c.isdigit() for c in token) else []
    if _RUN3.search(token):
        token = _squeeze(token)
    redup = _REDUP.match(token)
    if redup:  # kita2, k4f1r2, kata2nya: the base may itself be disguised
        base = _words(redup[1], is_known)
        if len(base) == 1 and base[0].isalpha():
            return [f"{base[0]}-{base[0]}{redup[2] or ''}"]
    if not _WORD.match(token):
        if "-" in token:  # k4f1r-k4f1r: decode each half
            halves = [_words(half, is_known) for half in token.split("-") if half]
            if len(halves) == 2 and halves[0] == halves[1] and len(halves[0]) == 1:
                return [f"{halves[0][0]}-{halves[0][0]}"]
            return [w for half in halves for w in half]
        decoded = _deleet(token, is_known) if _LEET_CHARS.search(token) else None
        if decoded:
            token = decoded
        else:
            # Lone letters split off digits or symbols are noise, not slang ("g" -> "enggak").
            parts = [p for p in _SEPARATORS.split(token) if p and not (len(p) == 1 and p.isalpha())]
            if parts != [token]:
                return [w for part in parts for w in _words(part, is_known)]
    term = lexicon.canonical(token)  # domain spellings first: thoghut -> thaghut
    if term:
        return [term]
    expansion = LEXICON.slang.get(token)
    return expansion.split() if expansion else [token]


class Preprocessor:
    """Surface tokens -> (stems, word form), cached per distinct token; a scikit-learn transformer.

    ``fit`` learns the table of every distinct training token (``stem_table_``:
    token -> (stems, normalized word form)); ``transform`` returns each text as
    space-joined stems, so the output feeds any scikit-learn text vectorizer.
    Tokens not in the table are worked out on first sight and kept in a bounded
    runtime cache. The word form is the token decoded (leetspeak, elongation,
    slang) but not stemmed and with stopwords kept: character n-grams use it.

    With ``content_only``, the :data:`VOICE` words (pronouns, address, modals, quantifiers,
    "admin") are stopwords too, and the word form keeps only the words that are not
    stopwords: no feature, word or character, then says who speaks to whom.
    """

    def __init__(self, cache_size: int = 500_000, content_only: bool = False) -> None:
        self.cache_size = cache_size
        self.content_only = content_only
        self._extra: dict[str, tuple[tuple[str, ...], str]] = {}

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {"cache_size": self.cache_size, "content_only": self.content_only}

    @property
    def stopwords(self) -> frozenset[str]:
        """The words that give no stem (and, with ``content_only``, no word form)."""
        return LEXICON.content_stopwords if self.content_only else LEXICON.stopwords

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without the runtime cache of unseen tokens."""
        return {k: v for k, v in self.__dict__.items() if k != "_extra"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._extra = {}

    def set_params(self, **params: Any) -> Preprocessor:
        for key, value in params.items():
            setattr(self, key, value)
        return self

    def analyze_token(self, token: str) -> tuple[tuple[str, ...], str]:
        """(stems, word form) of one surface token from :func:`tokenize`; cached, thread-safe."""
        found = getattr(self, "stem_table_", {}).get(token) or self._extra.get(token)
        if found is None:
            found = self._compute(token)
            if len(self._extra) >= self.cache_size:
                self._extra = {}
            self._extra[token] = found
        return found

    def analyze_tokens(self, tokens: list[str]) -> list[tuple[tuple[str, ...], str]]:
        """:meth:`analyze_token` of each token, the table read in one pass; tokens new to it
        are not kept in the runtime cache (the caller, a featurizer's token cache, keeps
        them)."""
        found = list(map(getattr(self, "stem_table_", {}).get, tokens))
        if None in found:
            extra = self._extra.get
            found = [f if f is not None else extra(t) or self._compute(t)
                     for t, f in zip(tokens, found)]
        return found

    def stems(self, token: str) -> tuple[str, ...]:
        """Stems of one surface token (empty for stopwords and noise)."""
        return self.analyze_token(token)[0]

    def _is_known(self, word: str) -> bool:
        """In a dictionary, slang or stopword list, seen in training, or stems to a root word."""
        return (word in LEXICON.known or (self.content_only and word in VOICE)
                or word in getattr(self, "stem_table_", ())
                or lexicon.lookup(word) is not None or _stem(word) in LEXICON.roots)

    def _compute(self, token: str) -> tuple[tuple[str, ...], str]:
        if token in PLACEHOLDERS:
            return (token,), token
        words = _words(token, self._is_known)
        stopwords = self.stopwords
        stems: list[str] = []
        for word in words:
            if word in _TIDAK:
                stems.append("tidak")
            elif word in NEGATIONS or word in lexicon.FORMS:
                stems.append(word)  # domain terms are their own stems: perangi is not perang
            elif word not in stopwords:
                stem = _stem(word) if _STEMMABLE.match(word) else word
                stems += [s for s in stem.split() if s not in stopwords]
        if self.content_only:
            words = [w for w in words if w not in stopwords]
        return tuple(stems), " ".join(words)

    def fit(self, texts: Iterable[Any], y: Any = None) -> Preprocessor:
        """Learn the table of every distinct token in ``texts``.

        Plain alphabetic training words also count as known words when decoding
        leetspeak and elongation, so domain words missing from the dictionary
        (``thaghut``) are recovered from ``th4ghut``.
        """
        tokens = sorted({token for text in texts for token in tokenize(text)})
        self.stem_table_: dict[str, tuple[tuple[str, ...], str]] = {
            t: ((), "") for t in tokens if t.isalpha()}
        self.stem_table_ = {t: self._compute(t) for t in tokens}
        self._extra = {}
        return self

    def analyze(self, text: Any) -> list[str]:
        """One text -> its stems, in order."""
        stems = self.stems
        return [s for token in tokenize(text) for s in stems(token)]

    def transform(self, texts: Iterable[Any]) -> list[str]:
        return [" ".join(self.analyze(t)) for t in texts]

    def fit_transform(self, texts: Iterable[Any], y: Any = None) -> list[str]:
        texts = list(texts)
        return self.fit(texts).transform(texts)


_DEFAULT = Preprocessor()


def preprocess(text: Any) -> list[str]:
    """One post -> standard Indonesian stems, negations kept, stopwords removed."""
    return _DEFAULT.analyze(text)

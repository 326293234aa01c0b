"""The batch-scoring contract: what ``kanalml score`` and ``kanalml rank`` produce, in one place.

Owns the scored output: its columns (defined in :mod:`kanalml.scoring`, below this module and
:mod:`kanalml.api`, and re-exported here; shared by :func:`kanalml.score`, the command line and
the Dask engine), scoring a chunk of an export, global ranks, the ``min_score``/``top`` filters and
rounding (:data:`DECIMALS`), the per-process model and known-list caches, :class:`Diagnostics`
(rows read, rejects, skipped chats, long posts), the checks of output paths before any work,
and the public batch functions :func:`score_files` and :func:`rank_files` that the command
line, notebooks and services call.

It knows nothing about argument parsing, progress bars or how messages reach a user: callers
pass ``warn`` and ``progress`` callbacks. It imports none of :mod:`kanalml.cli`,
:mod:`kanalml.dask` and :mod:`kanalml.api`.
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from kanalml.errors import DataError, existing_output
from kanalml.scoring import (
    KNOWN_COLUMNS,
    MAX_TEXT_CHARS,
    clip_texts,
    default_model_path,
    load_model,
    output_columns,
    predict_columns,
    probability_columns,
    score_columns,
)

if TYPE_CHECKING:  # numpy and pandas load on first use: `kanalml --help` stays ~0.15 s
    import numpy as np
    import pandas as pd

    from kanalml.io import ExportReader, Rejected
    from kanalml.known import KnownList, Matcher
    from kanalml.model import Model

__all__ = ["DECIMALS", "EVIDENCE_FLOOR", "KNOWN_COLUMNS", "Diagnostics", "RankSummary",
           "ScoreSummary", "cached_matcher", "cached_model", "check_outputs", "global_ranks",
           "output_columns", "predict_columns", "probability_columns", "rank_files",
           "score_chunk", "score_columns", "score_files"]

# Evidence is worked out only for posts worth a moderator's look; below this score it is empty.
EVIDENCE_FLOOR = 0.25
DECIMALS = 4  # probabilities in outputs; ranks come from the unrounded scores
CHANNEL_COLUMNS = ("channel", "chat", "channel_name", "chat_name", "channel_username")
DATE_COLUMNS = ("date", "datetime", "timestamp", "created_at", "time")

Warn = Callable[[str], None]
Progress = Callable[[int], None]


def warn_stderr(message: str) -> None:
    """The default ``warn``: one line on stderr, as the command line shows it."""
    print(f"kanalml: warning: {message}", file=sys.stderr)


# -- scoring a chunk (the output columns are kanalml.scoring's, re-exported above) -------------

def score_chunk(model: Model, chunk: pd.DataFrame, text_column: str, threshold: float,
                as_pairs: bool = False) -> pd.DataFrame:
    """The chunk with :func:`score_columns` and ``evidence`` added (empty below
    :data:`EVIDENCE_FLOOR`; rendered text, or ``(word, weight)`` pairs with ``as_pairs``);
    texts longer than :data:`kanalml.scoring.MAX_TEXT_CHARS` are scored on their beginning."""
    texts = clip_texts(chunk[text_column].tolist())
    out = chunk.copy()
    for name, values in predict_columns(model, texts, threshold).items():
        out[name] = values
    scores = out["score"].to_numpy()
    evidence: list[Any] = [model.explain(t) if p >= EVIDENCE_FLOOR else []
                           for t, p in zip(texts, scores)]
    if not as_pairs:
        from kanalml.rank import render_evidence

        evidence = [render_evidence(e) for e in evidence]
    out["evidence"] = evidence
    return out


def add_known(frame: pd.DataFrame, text_column: str, matcher: Matcher | None) -> pd.DataFrame:
    """``frame`` with ``known_id`` and ``known_similarity`` (see :func:`kanalml.score`); as it
    is without a matcher."""
    import pandas as pd

    if matcher is None:
        return frame
    ids, sims = matcher.match(frame[text_column].tolist())
    return frame.assign(known_id=pd.Series(ids, index=frame.index, dtype=object),
                        known_similarity=pd.Series(sims, index=frame.index))


def global_ranks(scores: np.ndarray) -> np.ndarray:
    """Rank 1 = review first: by unrounded score, highest first; ties keep input order."""
    import numpy as np

    rank = np.empty(len(scores), dtype=np.int64)
    rank[np.argsort(-scores, kind="stable")] = np.arange(1, len(scores) + 1)
    return rank


def ranked_part(frame: pd.DataFrame, ranks: np.ndarray, order: list[str],
                probabilities: list[str], min_score: float) -> pd.DataFrame:
    """One spooled part as written: columns in ``order``, its global ranks, rows below
    ``min_score`` left out, probabilities rounded."""
    frame = frame.reindex(columns=order)
    frame["rank"] = ranks
    frame = frame[frame["score"] >= min_score]
    frame[probabilities] = frame[probabilities].round(DECIMALS)
    return frame


def top_rows(frames: Iterable[pd.DataFrame], order: list[str], top: int) -> pd.DataFrame:
    """The rows ranked ``top`` or better of the parts, in rank order."""
    import pandas as pd

    kept = [frame[frame["rank"] <= top] for frame in frames]
    return (pd.concat(kept) if kept else pd.DataFrame(columns=order)).sort_values("rank")


# -- spooling: scores in memory, rows on disk ---------------------------------------------------

@dataclass
class Spooled:
    """Scored chunks written to a spool: the parts (file, rows), their scores in order and the
    union of their columns in order."""

    parts: list[tuple[str, int]] = field(default_factory=list)
    scores: list[np.ndarray] = field(default_factory=list)
    columns: dict[str, None] = field(default_factory=dict)

    def add(self, scored: pd.DataFrame, path: str) -> None:
        self.columns.update(dict.fromkeys(scored.columns))
        self.scores.append(scored["score"].to_numpy())
        scored.to_parquet(path, index=False)
        self.parts.append((path, len(scored)))


@dataclass
class OutputPlan:
    """What pass 2 needs: every part with its global ranks, and the output column order."""

    parts: list[tuple[str, np.ndarray]]
    order: list[str]
    scores: np.ndarray


def plan_output(spools: Sequence[Spooled]) -> OutputPlan:
    """Global ranks over the spools' scores, in spool order, and the columns in first-seen
    order with ``rank`` last."""
    import numpy as np

    every = np.concatenate([s for spool in spools for s in spool.scores]) \
        if any(spool.scores for spool in spools) else np.zeros(0)
    rank = global_ranks(every)
    columns: dict[str, None] = {}
    for spool in spools:
        columns.update(spool.columns)
    order = [c for c in columns if c != "rank"] + ["rank"]
    parts, start = [], 0
    for spool in spools:
        for name, n in spool.parts:
            parts.append((name, rank[start:start + n]))
            start += n
    return OutputPlan(parts, order, every)


# -- one model and one known list per process ---------------------------------------------------

_models: dict[str, Model] = {}
_matchers: dict[str, Matcher] = {}
_cache_lock = threading.Lock()


def model_path(model: str | os.PathLike[str] | None) -> str:
    """A model directory as an absolute path; None: the shipped model."""
    return str(Path(model if model is not None else default_model_path()).resolve())


def _once(cache: dict[str, Any], key: str, load: Callable[[str], Any]) -> Any:
    """``cache[key]``, loaded by ``load(key)`` the first time in this process (double-checked
    under one lock, so concurrent first calls load once)."""
    value = cache.get(key)
    if value is None:
        with _cache_lock:
            value = cache.get(key)
            if value is None:
                value = cache[key] = load(key)
    return value


def cached_model(path: str | os.PathLike[str] | None) -> Model:
    """The model at ``path`` (None: the shipped model), loaded once per process and kept: what
    worker processes (``--jobs``, Dask) score with, so token caches warm up across chunks."""
    model: Model = _once(_models, model_path(path), load_model)
    return model


def cached_matcher(path: str | os.PathLike[str] | None) -> Matcher | None:
    """The known-content list at ``path`` with its index, loaded once per process; None
    without a list."""
    if path is None:
        return None
    from kanalml.known import matcher as load_matcher

    matcher: Matcher = _once(_matchers, str(path), load_matcher)
    return matcher


# -- diagnostics --------------------------------------------------------------------------------

@dataclass
class Diagnostics:
    """What a run met besides the rows it scored: rows read, malformed rows (with file and
    line), Telegram chats skipped by type (only public ones are read), and posts longer than
    :data:`kanalml.scoring.MAX_TEXT_CHARS` (scored on their beginning; the first one's file and
    line)."""

    rows_read: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    skipped_chats: dict[str, int] = field(default_factory=dict)
    long_posts: int = 0
    first_long_post: tuple[str, int] | None = None

    def read(self, reader: ExportReader) -> Diagnostics:
        """Add an :class:`kanalml.io.ExportReader`'s counters, once it has been read."""
        self.rows_read += reader.rows_read
        self.rejected.extend(reader.rejected)
        for kind, count in reader.skipped_chats.items():
            self.skipped_chats[kind] = self.skipped_chats.get(kind, 0) + count
        return self

    def merge(self, other: Diagnostics) -> Diagnostics:
        """Add another run's (a Dask worker's) diagnostics, which come after these."""
        self.rows_read += other.rows_read
        self.rejected.extend(other.rejected)
        for kind, count in other.skipped_chats.items():
            self.skipped_chats[kind] = self.skipped_chats.get(kind, 0) + count
        self.long_posts += other.long_posts
        if self.first_long_post is None:
            self.first_long_post = other.first_long_post
        return self

    def count_long_posts(self, chunk: pd.DataFrame, text_column: str) -> None:
        lengths = chunk[text_column].map(lambda v: len(v) if isinstance(v, str) else 0)
        long = lengths.to_numpy() > MAX_TEXT_CHARS
        if long.any():
            self.long_posts += int(long.sum())
            if self.first_long_post is None:
                row = chunk[long].iloc[0]
                self.first_long_post = (str(row["_file"]), int(row["_line"]))


def rejects_path(output: str | os.PathLike[str] | None,
                 rejects: str | os.PathLike[str] | None = None) -> str:
    """Where malformed rows are listed: ``rejects``, else beside the output
    (``OUTPUT.rejects.csv``), else ``kanalml.rejects.csv``."""
    if rejects:
        return str(rejects)
    return f"{output}.rejects.csv" if output and str(output) != "-" else "kanalml.rejects.csv"


def report(diagnostics: Diagnostics, *, output: str | os.PathLike[str] | None,
           rejects: str | os.PathLike[str] | None, on_bad_lines: str, warn: Warn) -> None:
    """Warn about long posts and skipped chats; write the rejects after the output: a run that
    fails leaves neither. Without ``rejects``, a rejects file left by an earlier run for the
    same output is removed when this run rejects nothing, so it never describes another run's
    input."""
    from kanalml.io import write_rejects

    if diagnostics.first_long_post is not None:
        file, line = diagnostics.first_long_post
        warn(f"{file}:{line}: {diagnostics.long_posts} post(s) longer than "
             f"{MAX_TEXT_CHARS:,} characters (this is the first) were scored on their "
             f"first {MAX_TEXT_CHARS:,}; the output keeps the whole text")
    for chat_type, count in sorted(diagnostics.skipped_chats.items()):
        warn(f"skipped {count} Telegram chat(s) of type {chat_type!r}: only public channels "
             "and public supergroups are scored")
    target = rejects_path(output, rejects)
    if diagnostics.rejected or rejects:
        write_rejects(target, diagnostics.rejected)
    elif output and str(output) != "-":
        Path(target).unlink(missing_ok=True)
    if diagnostics.rejected and on_bad_lines == "warn":  # skip: listed only
        warn(f"{len(diagnostics.rejected)} malformed row(s) were not scored; they are listed "
             f"with their file and line in {target}")


# -- checks before any work ---------------------------------------------------------------------

def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file (the same path, a symlink or a hard link to it)."""
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and a.samefile(b))
    except OSError:
        return False


def check_outputs(inputs: Sequence[str | os.PathLike[str]],
                  outputs: Sequence[str | os.PathLike[str] | None], *,
                  tables: Sequence[str | os.PathLike[str] | None] = (), force: bool = False,
                  companions: Sequence[str | os.PathLike[str] | None] = ()) -> list[str]:
    """Check every output path before any work, so that a run of hours does not fail at its
    end: an existing writable directory, no two outputs alike, no input overwritten (a run
    reads its inputs to the end before writing, so the export would be replaced by its own
    scores), for ``tables`` a file name whose format is known, and no existing file replaced
    unless ``force`` (:func:`kanalml.errors.existing_output`), ``companions`` excepted (the
    default rejects file, which belongs to its output). None and "-" (stdout) pass. Returns
    the outputs that exist and will be replaced.
    """
    from kanalml.io import AtomicWriter

    seen: list[Path] = []
    replaced: list[str] = []
    tables = [str(t) for t in tables if t is not None]
    exempt = {str(c) for c in companions if c is not None}
    for output in outputs:
        if output is None or str(output) == "-":
            continue
        path = Path(output)
        for name in inputs:
            if same_file(path, Path(name)):
                raise DataError(f"{output}: is also an input; write the output to another file")
        if any(same_file(path, other) for other in seen):
            raise DataError(f"{output}: given for two outputs; name each output differently")
        seen.append(path)
        if path.is_dir():
            raise DataError(f"{output}: is a directory")
        if str(output) not in exempt and existing_output(path, force):
            replaced.append(str(output))
        if str(output) in tables:
            AtomicWriter(path)  # raises on a file name whose format is unknown
        parent = path.parent
        if not parent.is_dir():
            raise DataError(f"{output}: directory {str(parent)!r} does not exist")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise DataError(f"{output}: directory {str(parent)!r} is not writable")
    return replaced


def is_html(output: str | os.PathLike[str]) -> bool:
    """A queue written as the read-only review page instead of a table."""
    return str(output).lower().endswith((".html", ".htm"))


# -- scoring an export --------------------------------------------------------------------------

def _model(model: Model | str | os.PathLike[str] | None) -> Model:
    return load_model(model) if model is None or isinstance(model, (str, os.PathLike)) \
        else model


def _matcher(known: KnownList | Matcher | str | os.PathLike[str] | None) -> Matcher | None:
    """The matcher for a known-content list (its index built once for the run), or None."""
    if known is None:
        return None
    from kanalml.known import matcher

    return matcher(known)


_pool_model: Model | None = None


def _init_worker(model: Model | str) -> None:
    global _pool_model
    # Ctrl-C reaches the whole process group: the parent stops the pool, workers stay quiet.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _pool_model = cached_model(model) if isinstance(model, str) else model


def _score_in_worker(args: tuple[pd.DataFrame, str, float, bool]) -> pd.DataFrame:
    chunk, text_column, threshold, as_pairs = args
    assert _pool_model is not None  # set by _init_worker
    return score_chunk(_pool_model, chunk, text_column, threshold, as_pairs)


def scored_chunks(reader: Iterable[tuple[pd.DataFrame, str]], model: Model,
                  source: Model | str | os.PathLike[str] | None, threshold: float, *,
                  as_pairs: bool = False, jobs: int = 1,
                  diagnostics: Diagnostics | None = None) -> Iterator[tuple[pd.DataFrame, str]]:
    """Score the reader's chunks, in order, here or on ``jobs`` processes (each loads the
    model from ``source`` once: a directory, None for the shipped model, or the Model itself);
    long posts are counted in ``diagnostics``."""
    diagnostics = diagnostics if diagnostics is not None else Diagnostics()

    def counted() -> Iterator[tuple[pd.DataFrame, str]]:
        for chunk, text_column in reader:
            diagnostics.count_long_posts(chunk, text_column)
            yield chunk, text_column

    if jobs <= 1:
        for chunk, text_column in counted():
            yield score_chunk(model, chunk, text_column, threshold, as_pairs), text_column
        return
    from concurrent.futures import Future, ProcessPoolExecutor

    ref = model_path(source) if source is None or isinstance(source, (str, os.PathLike)) \
        else source
    with ProcessPoolExecutor(jobs, initializer=_init_worker, initargs=(ref,)) as pool:
        pending: deque[tuple[Future[pd.DataFrame], str]] = deque()
        for chunk, text_column in counted():
            pending.append((pool.submit(_score_in_worker, (chunk, text_column, threshold,
                                                           as_pairs)), text_column))
            if len(pending) > 2 * jobs:  # bounded: memory stays flat
                future, column = pending.popleft()
                yield future.result(), column
        while pending:
            future, column = pending.popleft()
            yield future.result(), column


class _Run(NamedTuple):
    model: Model
    threshold: float
    matcher: Matcher | None
    reader: ExportReader


def _open_run(paths: Sequence[str], model: Model | str | os.PathLike[str] | None,
              threshold: float | None, known: KnownList | Matcher | str | os.PathLike[str] | None,
              *, text_column: str | None, chunk_rows: int, on_bad_lines: str,
              keep_authors: bool, warn: Warn, sheet: str | None = None) -> _Run:
    """What a batch run scores with: the model, the threshold (default: the model's), the
    known-list matcher and a reader that renames input columns clashing with the output."""
    # rank is imported before the first chunk, not inside the chunk loop (score_chunk):
    # importing it (datasketch, which imports scipy.optimize) mid-run took ~0.5 s inside the
    # import machinery, where a Ctrl-C is swallowed or escapes the CLI's handler (the
    # stopped-run test failed 2 of 8 times on a loaded machine).
    import kanalml.rank  # noqa: F401
    from kanalml.io import ExportReader

    loaded = _model(model)
    matcher = _matcher(known)
    reader = ExportReader(paths, text_column=text_column, chunk_rows=chunk_rows,
                          on_bad_lines=on_bad_lines, keep_authors=keep_authors, warn=warn,
                          reserved=output_columns(loaded, known=matcher is not None),
                          sheet=sheet)
    return _Run(loaded, loaded.threshold if threshold is None else threshold, matcher, reader)


def write_frames(frames: Iterable[pd.DataFrame], output: str | os.PathLike[str]) -> None:
    """Write frames to ``output`` (format by extension, atomically) or, for "-", as CSV on
    stdout."""
    from kanalml.io import AtomicWriter, write_csv

    if str(output) == "-":
        # data is UTF-8 like every output file, whatever the terminal's encoding (PYTHONIOENCODING
        # or a legacy locale made an emoji a UnicodeEncodeError traceback)
        if hasattr(sys.stdout, "reconfigure"):
            sys.stdout.reconfigure(encoding="utf-8")
        header = True
        for frame in frames:
            write_csv(frame, sys.stdout, header=header)
            header = False
        return
    with AtomicWriter(output) as writer:
        for frame in frames:
            writer.write(frame)


@dataclass
class ScoreSummary:
    """What :func:`score_files` did: rows scored, rows flagged at ``threshold``, input files,
    and the run's :class:`Diagnostics`."""

    rows: int
    flagged: int
    threshold: float
    files: int
    diagnostics: Diagnostics


def score_files(inputs: Sequence[str | os.PathLike[str]], output: str | os.PathLike[str], *,
                model: Model | str | os.PathLike[str] | None = None,
                threshold: float | None = None, min_score: float = 0.0, top: int | None = None,
                known: KnownList | Matcher | str | os.PathLike[str] | None = None,
                text_column: str | None = None, on_bad_lines: str = "warn",
                keep_authors: bool = False, chunk_rows: int = 20_000, jobs: int = 1,
                rejects: str | os.PathLike[str] | None = None, warn: Warn = warn_stderr,
                progress: Progress | None = None, sheet: str | None = None,
                force: bool = False) -> ScoreSummary:
    """Score every row of the exports into ``output`` (format by extension; "-": CSV on stdout):
    every input column kept, :func:`output_columns` added, probabilities rounded to
    :data:`DECIMALS`, ``rank`` over all rows (1 = review first).

    ``min_score`` leaves out rows scoring below it; ``top`` keeps the ``top`` best-ranked rows,
    written in rank order. ``threshold``: flag at this score (default: the model's). ``known``:
    a known-content list, adding ``known_id`` and ``known_similarity``. Malformed rows stop the
    run (``on_bad_lines="error"``) or are listed in ``rejects`` (default
    ``OUTPUT.rejects.csv``; "warn" also calls ``warn``). ``jobs`` > 1 scores on that many
    processes. ``progress`` receives the number of rows of each chunk scored. ``sheet``: in
    Excel inputs, read only this sheet (default: every sheet).

    Every output path is checked before any work; the output appears only when complete. An
    output (or ``rejects``) that exists is a DataError unless ``force``: then it is replaced.
    """
    paths = [str(p) for p in inputs]
    rejects_file = rejects_path(output, rejects)
    check_outputs(paths, [output, rejects_file], tables=[output], force=force,
                  companions=[None if rejects else rejects_file])
    loaded, threshold, matcher, reader = _open_run(
        paths, model, threshold, known, text_column=text_column, chunk_rows=chunk_rows,
        on_bad_lines=on_bad_lines, keep_authors=keep_authors, warn=warn, sheet=sheet)
    diagnostics = Diagnostics()
    probabilities = probability_columns(loaded, known=matcher is not None)
    with tempfile.TemporaryDirectory(prefix="kanalml-") as spool:
        # Pass 1: score chunk by chunk into a spool, keeping only the scores in memory.
        spooled = Spooled()
        for scored, text_column_ in scored_chunks(reader, loaded, model, threshold, jobs=jobs,
                                                  diagnostics=diagnostics):
            scored = add_known(scored, text_column_, matcher)
            spooled.add(scored, str(Path(spool) / f"{len(spooled.parts):06d}.parquet"))
            if progress is not None:
                progress(len(scored))
        diagnostics.read(reader)
        plan = plan_output([spooled])

        # Pass 2: global ranks, filters and rounding, part by part.
        def frames() -> Iterator[pd.DataFrame]:
            import pandas as pd

            parts = (ranked_part(pd.read_parquet(name), ranks, plan.order, probabilities,
                                 min_score) for name, ranks in plan.parts)
            if top is None:
                yield from parts
            else:
                yield top_rows(parts, plan.order, top)

        write_frames(frames(), output)
    report(diagnostics, output=output, rejects=rejects, on_bad_lines=on_bad_lines, warn=warn)
    return ScoreSummary(rows=len(plan.scores), flagged=int((plan.scores >= threshold).sum()),
                        threshold=threshold, files=len(paths), diagnostics=diagnostics)


def find_column(columns: Sequence[str], candidates: Sequence[str]) -> str | None:
    """The first of ``candidates`` among ``columns``, compared without case; None if none."""
    lowered = {c.lower(): c for c in columns}
    return next((lowered[c] for c in candidates if c in lowered), None)


@dataclass
class RankSummary:
    """What :func:`rank_files` built: the queue (rounded, as written), the channel summary, the
    share of expected positives the queue covers, posts matching the known list per channel,
    and the run's :class:`Diagnostics`."""

    queue: pd.DataFrame
    channels: pd.DataFrame
    covered: float
    known_counts: dict[str, int]
    diagnostics: Diagnostics


def rank_files(inputs: Sequence[str | os.PathLike[str]],
               output: str | os.PathLike[str] | None = None, *,
               channels: str | os.PathLike[str] | None = None,
               model: Model | str | os.PathLike[str] | None = None,
               threshold: float | None = None, min_score: float = 0.0,
               budget: int | None = None, reach_column: str | None = None,
               known: KnownList | Matcher | str | os.PathLike[str] | None = None,
               text_column: str | None = None, on_bad_lines: str = "warn",
               keep_authors: bool = False, chunk_rows: int = 20_000, jobs: int = 1,
               rejects: str | os.PathLike[str] | None = None, warn: Warn = warn_stderr,
               progress: Progress | None = None, sheet: str | None = None,
               force: bool = False, fmt: str | None = None) -> RankSummary:
    """Build the moderator queue of the exports: one item per distinct message (forwarded and
    edited copies collapsed), highest priority first; see :class:`kanalml.rank.QueueBuilder`.

    Written to ``output`` when given (a table by extension, ".html" the read-only review page,
    "-" CSV on stdout) and the per-channel summary to ``channels``. ``budget`` keeps the first
    ``budget`` items; ``reach_column`` weighs priority by reach; ``known`` puts items matching
    a known-content list first. The other options are those of :func:`score_files`; ``force``
    replaces an existing output or ``channels`` file. ``fmt="label-studio"`` writes the queue as
    Label Studio tasks with kanalml's pre-annotations (:mod:`kanalml.labelstudio`), and the
    labelling config beside them.
    """
    from kanalml.io import AtomicWriter
    from kanalml.labelled import ID_COLUMNS
    from kanalml.rank import QueueBuilder

    paths = [str(p) for p in inputs]
    rejects_file = rejects_path(output, rejects)
    tasks = fmt == "label-studio"
    if fmt not in (None, "label-studio"):
        raise ValueError(f"fmt must be None or 'label-studio', got {fmt!r}")
    if tasks and (output is None or str(output) == "-"):
        raise DataError("Label Studio tasks are written to a file: give -o tasks.json")
    config = None
    if tasks:
        from kanalml.labelstudio import config_path

        config = str(config_path(str(output)))
    tables = [channels] + ([output] if output is not None and not is_html(output)
                           and not tasks else [])
    check_outputs(paths, [output, rejects_file, channels, config], tables=tables, force=force,
                  companions=[None if rejects else rejects_file, config])
    loaded, threshold, matcher, reader = _open_run(
        paths, model, threshold, known, text_column=text_column, chunk_rows=chunk_rows,
        on_bad_lines=on_bad_lines, keep_authors=keep_authors, warn=warn, sheet=sheet)
    diagnostics = Diagnostics()
    builder = QueueBuilder(loaded.labels_, reach_column=reach_column, min_score=min_score,
                           categories=bool(loaded.categories_))
    for scored, text_column_ in scored_chunks(reader, loaded, model, threshold, as_pairs=True,
                                              jobs=jobs, diagnostics=diagnostics):
        columns = list(scored.columns)
        if reach_column and reach_column not in columns:
            raise DataError(f"--reach-column {reach_column!r} is not a column "
                            f"(columns: {', '.join(columns)})")
        scored = add_known(scored, text_column_, matcher)
        builder.add(scored, text_column=text_column_,
                    channel_column=find_column(columns, CHANNEL_COLUMNS),
                    date_column=find_column(columns, DATE_COLUMNS),
                    id_column=find_column(columns, ID_COLUMNS))
        if progress is not None:
            progress(len(scored))
    diagnostics.read(reader)
    queue, covered = builder.queue(budget=budget)
    probabilities = probability_columns(loaded, known=matcher is not None)
    queue[probabilities] = queue[probabilities].round(DECIMALS)
    if tasks:
        from kanalml.labelstudio import write_tasks

        name = (Path(model_path(model)).name if model is None or isinstance(model, (str, Path))
                else str(loaded.metadata_.get("name", "kanalml")))
        write_tasks(queue, str(output), model_version=name)
    elif output is not None and is_html(output):
        from kanalml.review import frame_items, write_static_page

        write_static_page(frame_items(queue, "text"), output, name=Path(output).name)
    elif output is not None:
        write_frames([queue], output)
    summary = builder.channels()
    if channels is not None:
        with AtomicWriter(channels) as writer:
            writer.write(summary)
    report(diagnostics, output=output, rejects=rejects, on_bad_lines=on_bad_lines, warn=warn)
    return RankSummary(queue=queue, channels=summary, covered=covered,
                       known_counts=builder.known_counts(), diagnostics=diagnostics)

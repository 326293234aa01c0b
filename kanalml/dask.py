"""Scoring and ranking on a Dask cluster, for sweeps larger than one machine.

Needs the optional extra: ``pip install "kanalml[dask]"``. Nothing here is
imported by ``import kanalml``. This module distributes the functions of
:mod:`kanalml.pipeline` (which defines the output) over partitions and workers;
it knows nothing of the command line.

The model reaches each worker once. A model directory (or the shipped model,
``model=None``) is loaded by each worker process the first time one of its
tasks needs it and kept for the worker's life
(:func:`kanalml.pipeline.cached_model`); a :class:`~kanalml.model.Model`
object is scattered to every worker once. Either way the token caches live per
worker and warm up across partitions.

- :func:`score_dataframe` adds kanalml's score columns to a Dask DataFrame; each
  partition warns, when computed, of the posts it scored on their beginning only.
- :func:`rank_dataframe` builds the global moderator queue: a partial queue per
  partition (duplicates collapsed there, pruned to the budget), merged into one,
  so forwarded copies in different partitions still become one item.
- :func:`score_files` is ``kanalml score --engine dask``: the same rows, values,
  rank and bad-input rules as :func:`kanalml.pipeline.score_files`, written as one
  output file per input chunk.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from kanalml import pipeline
from kanalml.errors import DataError, new_output_directory, replace_directory
from kanalml.io import expand_globs
from kanalml.rank import RankedQueue

if TYPE_CHECKING:
    from kanalml.model import Model


def _known_path(known: str | os.PathLike[str] | None) -> str | None:
    """The list's absolute path, verified here first so a bad list fails before any task."""
    if known is None:
        return None
    from kanalml.known import load

    load(known)
    return str(Path(known).resolve())


def _resolve(ref: Any) -> Model:
    """A task's model: a path string loaded once per worker process, or the Model itself."""
    return pipeline.cached_model(ref) if isinstance(ref, str) else ref


def _model_ref(model: Any) -> tuple[Any, Model]:
    """(what tasks receive, the model here for metadata): a path string, or for a Model
    object a future of its one copy per worker when a distributed client is running."""
    import kanalml

    if model is None or isinstance(model, (str, os.PathLike)):
        path = pipeline.model_path(model)
        return path, kanalml.load_model(path)
    try:
        from distributed import get_client

        client = get_client()
    except (ImportError, ValueError):
        return model, model
    return client.scatter(model, broadcast=True, hash=False), model  # type: ignore[no-untyped-call]


def _warn_cut(part: pd.DataFrame, text_column: str, partition_info: dict[str, Any] | None
              ) -> None:
    """Warn, from the task, of the partition's posts scored on their beginning only.

    A lazy frame has no moment of its own to warn at: counting when it is built would read
    the input twice, and a hook at compute time is lost with the next operation on it. So
    the task that cuts the posts says so, when it runs; on a distributed cluster
    ``distributed.warn`` forwards the warning to the clients, as a Dask user expects of a
    task's warning."""
    long = pipeline.Diagnostics()
    long.count_long_posts(part.assign(_file="", _line=range(len(part))), text_column)
    if long.first_long_post is None:
        return
    try:
        from distributed import warn
    except ImportError:
        from warnings import warn
    from kanalml.scoring import MAX_TEXT_CHARS

    where = "" if partition_info is None else f"partition {partition_info['number']}: "
    warn(f"{where}{long.long_posts} post(s) longer than {MAX_TEXT_CHARS:,} characters (the "
         f"first at index {part.index[long.first_long_post[1]]}) were scored on their first "
         f"{MAX_TEXT_CHARS:,}; the frame keeps the whole text", UserWarning, stacklevel=2)


def _score_partition(part: pd.DataFrame, text_column: str, ref: Any,
                     known: str | None = None,
                     partition_info: dict[str, Any] | None = None) -> pd.DataFrame:
    import kanalml

    _warn_cut(part, text_column, partition_info)
    scored = kanalml.score(part[text_column], model=_resolve(ref))
    assert isinstance(scored, pd.DataFrame)
    return pipeline.add_known(part.assign(**{str(c): scored[c] for c in scored.columns}),
                              text_column, pipeline.cached_matcher(known))


def score_dataframe(ddf: Any, text_column: str, model: Any = None,
                    known: str | os.PathLike[str] | None = None) -> Any:
    """``ddf`` with the columns :func:`kanalml.score` returns (``score``, one probability
    per label, ``flagged``) added to each row; lazy, like any Dask DataFrame. An input column
    with one of those names is kept, renamed ``NAME_input``. With ``known`` (a known-content
    list's directory, loaded once per worker), also ``known_id`` and ``known_similarity``.
    A ``text_column`` that ``ddf`` lacks raises :class:`kanalml.DataError`. A partition with
    posts longer than :data:`kanalml.scoring.MAX_TEXT_CHARS` warns when it is computed."""
    from kanalml.io import free_name

    ref, here = _model_ref(model)
    if text_column not in ddf.columns:
        raise DataError(f"no column {text_column!r} (columns: "
                        f"{', '.join(map(str, ddf.columns))})")
    known_path = _known_path(known)
    columns = {c: pd.Series(dtype=t) for c, t in pipeline.score_columns(here).items()}
    if known_path is not None:
        columns |= {"known_id": pd.Series(dtype=object), "known_similarity": pd.Series(dtype="f8")}
    clash = [str(c) for c in ddf.columns if c in columns]
    if clash:  # input columns are renamed, never overwritten
        taken = {*map(str, ddf.columns), *columns}
        renamed = {}
        for name in clash:
            renamed[name] = free_name(name, taken)
            taken.add(renamed[name])
        ddf = ddf.rename(columns=renamed)
        text_column = renamed.get(text_column, text_column)
    meta = ddf._meta.assign(**columns)
    return ddf.map_partitions(_score_partition, text_column, ref, known_path, meta=meta)


def _partition_queue(part: pd.DataFrame, text_column: str, ref: Any, options: dict[str, Any],
                     budget: int | None) -> Any:
    from kanalml.rank import QueueBuilder

    model = _resolve(ref)
    scored = pipeline.score_chunk(model, part, text_column, model.threshold, as_pairs=True)
    scored = pipeline.add_known(scored, text_column, pipeline.cached_matcher(options["known"]))
    builder = QueueBuilder(model.labels_, reach_column=options["reach_column"],
                           min_score=options["min_score"], categories=bool(model.categories_))
    builder.add(scored, text_column=text_column, channel_column=options["channel_column"],
                date_column=options["date_column"])
    long = pipeline.Diagnostics()
    long.count_long_posts(part.assign(_file="", _line=0), text_column)
    return (builder.prune(budget) if budget is not None else builder), long.long_posts


def _merge(a: Any, b: Any) -> Any:
    return a[0].merge(b[0]), a[1] + b[1]


def _warn_long_posts(count: int) -> None:
    if count:
        import warnings

        from kanalml.scoring import MAX_TEXT_CHARS

        warnings.warn(f"{count} post(s) longer than {MAX_TEXT_CHARS:,} characters were scored "
                      f"on their first {MAX_TEXT_CHARS:,}", stacklevel=3)


def rank_dataframe(ddf: Any, text_column: str, model: Any = None, *, budget: int | None = None,
                   channel_column: str | None = None, date_column: str | None = None,
                   reach_column: str | None = None, min_score: float = 0.0,
                   known: str | os.PathLike[str] | None = None) -> RankedQueue:
    """The moderator queue over all partitions: (queue, channels, covered), a
    :class:`kanalml.rank.RankedQueue`.

    Columns and order as ``kanalml rank``. Each partition is scored and grouped
    where it lives; with ``budget`` it keeps only its first ``budget`` items
    (then an item's copies in partitions where it was pruned are not counted, and
    the covered share is a lower bound). The partial queues are merged pairwise
    in a tree, in partition order. With ``known`` (a known-content list's directory,
    loaded once per worker) items matching it come first, as with ``kanalml rank --known``.
    """
    from dask.delayed import delayed

    ref, _ = _model_ref(model)
    options = {"channel_column": channel_column, "date_column": date_column,
               "reach_column": reach_column, "min_score": min_score,
               "known": _known_path(known)}
    parts = [delayed(_partition_queue)(p, text_column, ref, options, budget)
             for p in ddf.to_delayed()]
    while len(parts) > 1:
        pairs = [delayed(_merge)(parts[i], parts[i + 1]) for i in range(0, len(parts) - 1, 2)]
        parts = pairs + ([parts[-1]] if len(parts) % 2 else [])
    builder, long_posts = parts[0].compute()
    _warn_long_posts(long_posts)
    queue, covered = builder.queue(budget=budget)
    return RankedQueue(queue, builder.channels(), covered)


# -- kanalml score --engine dask -----------------------------------------------------------------

def _spool_file(index: int, path: str, spool: str, model_path: str,
                reader_options: dict[str, Any], threshold: float, known: str | None = None
                ) -> tuple[pipeline.Spooled, pipeline.Diagnostics, list[str]]:
    """Score one input file chunk by chunk into spool parts: (the parts, the file's
    diagnostics, the reader's warnings, shown by the client)."""
    from kanalml.io import ExportReader

    model = pipeline.cached_model(model_path)
    warnings: list[str] = []
    reader = ExportReader([path], warn=warnings.append, **reader_options)
    diagnostics = pipeline.Diagnostics()
    spooled = pipeline.Spooled()
    for c, (scored, text_column) in enumerate(pipeline.scored_chunks(
            reader, model, model_path, threshold, diagnostics=diagnostics)):
        scored = pipeline.add_known(scored, text_column, pipeline.cached_matcher(known))
        spooled.add(scored, str(Path(spool) / f"{index:05d}-{c:05d}.parquet"))
    return spooled, diagnostics.read(reader), warnings


def _write_part(spool_part: str, target: str, ranks: np.ndarray, order: list[str],
                probabilities: list[str], min_score: float, top: int | None) -> Any:
    """Write one output part (or, with ``top``, return its rows for the client to keep)."""
    from kanalml.io import AtomicWriter

    frame = pipeline.ranked_part(pd.read_parquet(spool_part), ranks, order, probabilities,
                                 min_score)
    if top is not None:
        return frame[frame["rank"] <= top]
    with AtomicWriter(target) as writer:
        writer.write(frame)
    return len(frame)


def _client(scheduler: str | None, workers: int | None) -> Any:
    from distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler), None  # type: ignore[no-untyped-call]
    cluster = LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
        dashboard_address=":0")
    return Client(cluster), cluster  # type: ignore[no-untyped-call]


def score_files(patterns: Sequence[str], out_dir: str | os.PathLike[str], *,
                model: str | os.PathLike[str] | None = None, fmt: str = "csv",
                scheduler: str | None = None, workers: int | None = None,
                text_column: str | None = None, on_bad_lines: str = "warn",
                keep_authors: bool = False, chunk_rows: int = 20_000,
                threshold: float | None = None, min_score: float = 0.0, top: int | None = None,
                known: str | os.PathLike[str] | None = None,
                rejects: str | os.PathLike[str] | None = None,
                warn: pipeline.Warn = pipeline.warn_stderr,
                sheet: str | None = None, force: bool = False) -> pipeline.ScoreSummary:
    """:func:`kanalml.pipeline.score_files` on a Dask cluster: every row of the inputs scored
    into ``out_dir``, one file per chunk (``part-FFFFF-CCCCC.<fmt>``: input file and chunk
    numbers), or with ``top`` one file.

    The same rows, columns, values, rank, rejects and warnings as the local engine on the same
    inputs. ``patterns`` may hold (quoted) globs. ``out_dir`` must be new or empty (with
    ``force``: an existing one is replaced as a whole) and
    reachable by every worker (a shared filesystem); it appears only when everything is
    written. Without ``scheduler`` a LocalCluster of ``workers`` processes is started and
    closed. ``known``: a known-content list's directory (reachable by every worker, loaded
    once per worker). Malformed rows are listed in ``rejects`` (default
    ``OUT_DIR.rejects.csv``) after the output is in place.
    """
    import kanalml
    from kanalml.io import AtomicWriter, ExportReader

    target = new_output_directory(out_dir, force=force)
    rejects_file = pipeline.rejects_path(out_dir, rejects)
    paths = expand_globs(patterns)
    pipeline.check_outputs(paths, [rejects_file], force=force,
                           companions=[None if rejects else rejects_file])
    ExportReader(paths)  # missing or unreadable files fail here, before a cluster starts
    known_path = _known_path(known)  # and so does a bad known-content list
    model_path = pipeline.model_path(model)
    loaded = kanalml.load_model(model_path)
    threshold = loaded.threshold if threshold is None else threshold
    reader_options = {"text_column": text_column, "chunk_rows": chunk_rows,
                      "on_bad_lines": on_bad_lines, "keep_authors": keep_authors, "sheet": sheet,
                      "reserved": pipeline.output_columns(loaded, known=known_path is not None)}
    probabilities = pipeline.probability_columns(loaded, known=known_path is not None)
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    spool, staged = work / "spool", work / "out"
    spool.mkdir()
    staged.mkdir()
    client, cluster = _client(scheduler, workers)
    try:
        futures = client.map(_spool_file, range(len(paths)), paths, spool=str(spool),
                             model_path=model_path, reader_options=reader_options,
                             threshold=threshold, known=known_path, pure=False)
        results = client.gather(futures)
        plan = pipeline.plan_output([spooled for spooled, _, _ in results])
        names = [name for name, _ in plan.parts]
        targets = [str(staged / f"part-{Path(name).stem}.{fmt}") for name in names]
        written = client.gather(client.map(
            _write_part, names, targets, [ranks for _, ranks in plan.parts], order=plan.order,
            probabilities=probabilities, min_score=min_score, top=top, pure=False))
        if top is not None:
            with AtomicWriter(staged / f"part-00000-00000.{fmt}") as writer:
                writer.write(pipeline.top_rows(written, plan.order, top))
        diagnostics = pipeline.Diagnostics()
        for _, part_diagnostics, messages in results:
            for message in messages:
                warn(message)
            diagnostics.merge(part_diagnostics)
        replace_directory(staged, target)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
        shutil.rmtree(work, ignore_errors=True)
    pipeline.report(diagnostics, output=out_dir, rejects=rejects, on_bad_lines=on_bad_lines,
                    warn=warn)
    return pipeline.ScoreSummary(rows=len(plan.scores),
                                 flagged=int((plan.scores >= threshold).sum()),
                                 threshold=threshold, files=len(paths), diagnostics=diagnostics)

"""Scoring and ranking on a Dask cluster, for sweeps larger than one machine.

Needs the optional extra: ``pip install "kanalml[dask]"``. Nothing here is
imported by ``import kanalml``.

The model reaches each worker once. A model directory (or the shipped model,
``model=None``) is loaded by each worker process the first time one of its
tasks needs it and kept for the worker's life; a :class:`~kanalml.model.Model`
object is scattered to every worker once. Either way the token caches live per
worker and warm up across partitions.

- :func:`score_dataframe` adds kanalml's score columns to a Dask DataFrame.
- :func:`rank_dataframe` builds the global moderator queue: a partial queue per
  partition (duplicates collapsed there, pruned to the budget), merged into one,
  so forwarded copies in different partitions still become one item.
- :func:`score_files` is ``kanalml score --engine dask``: the same rows, values,
  rank and bad-input rules as the local engine, written as one output file per
  input chunk.
"""

from __future__ import annotations

import glob
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

_models: dict[str, Any] = {}
_models_lock = threading.Lock()
LOADS: dict[str, int] = {}  # model loads in this process, by path (the tests read it)
_matchers: dict[str, Any] = {}  # known-content list path -> its Matcher, one per process


def _worker_model(path: str) -> Any:
    """The model at ``path``, loaded once per process."""
    model = _models.get(path)
    if model is None:
        with _models_lock:
            model = _models.get(path)
            if model is None:
                import kanalml

                model = _models[path] = kanalml.load_model(path)
                LOADS[path] = LOADS.get(path, 0) + 1
    return model


def _worker_matcher(path: str | None) -> Any:
    """The known-content list at ``path`` with its index, loaded once per process; None
    without a list."""
    if path is None:
        return None
    matcher = _matchers.get(path)
    if matcher is None:
        with _models_lock:
            matcher = _matchers.get(path)
            if matcher is None:
                from kanalml.known import matcher as load_matcher

                matcher = _matchers[path] = load_matcher(path)
    return matcher


def _known_path(known: str | os.PathLike[str] | None) -> str | None:
    """The list's absolute path, verified here first so a bad list fails before any task."""
    if known is None:
        return None
    from kanalml.known import load

    load(known)
    return str(Path(known).resolve())


def _add_known(frame: pd.DataFrame, text_column: str, known: str | None) -> pd.DataFrame:
    matcher = _worker_matcher(known)
    if matcher is None:
        return frame
    ids, sims = matcher.match(frame[text_column].tolist())
    return frame.assign(known_id=pd.Series(ids, index=frame.index, dtype=object),
                        known_similarity=pd.Series(sims, index=frame.index))


def _model_path(model: str | os.PathLike[str] | None) -> str:
    from kanalml.api import default_model_path

    return str(Path(model if model is not None else default_model_path()).resolve())


def _resolve(ref: Any) -> Any:
    return _worker_model(ref) if isinstance(ref, str) else ref


def _model_ref(model: Any) -> tuple[Any, Any]:
    """(what tasks receive, the model here for metadata): a path string, or for a Model
    object a future of its one copy per worker when a distributed client is running."""
    import kanalml

    if model is None or isinstance(model, (str, os.PathLike)):
        path = _model_path(model)
        return path, kanalml.load_model(path)
    try:
        from distributed import get_client

        client = get_client()
    except (ImportError, ValueError):
        return model, model
    return client.scatter(model, broadcast=True, hash=False), model


def _score_columns(model: Any) -> dict[str, Any]:
    category = {"category": "object"} if model.categories_ else {}
    return {"score": "f8", **dict.fromkeys(model.labels_, "f8"), **category, "flagged": "bool"}


def _score_partition(part: pd.DataFrame, text_column: str, ref: Any,
                     known: str | None = None) -> pd.DataFrame:
    import kanalml

    scored = kanalml.score(part[text_column], model=_resolve(ref))
    return _add_known(part.assign(**{column: scored[column] for column in scored.columns}),
                      text_column, known)


def score_dataframe(ddf: Any, text_column: str, model: Any = None,
                    known: str | os.PathLike[str] | None = None) -> Any:
    """``ddf`` with the columns :func:`kanalml.score` returns (``score``, one probability
    per label, ``flagged``) added to each row; lazy, like any Dask DataFrame. An input column
    with one of those names is kept, renamed ``NAME_input``. With ``known`` (a known-content
    list's directory, loaded once per worker), also ``known_id`` and ``known_similarity``."""
    from kanalml.io import _free_name

    ref, here = _model_ref(model)
    if text_column not in ddf.columns:
        raise KeyError(f"no column {text_column!r} (columns: {', '.join(map(str, ddf.columns))})")
    known_path = _known_path(known)
    columns = {c: pd.Series(dtype=t) for c, t in _score_columns(here).items()}
    if known_path is not None:
        columns |= {"known_id": pd.Series(dtype=object), "known_similarity": pd.Series(dtype="f8")}
    clash = [str(c) for c in ddf.columns if c in columns]
    if clash:  # input columns are renamed, never overwritten
        taken = {*map(str, ddf.columns), *columns}
        renamed = {}
        for name in clash:
            renamed[name] = _free_name(name, taken)
            taken.add(renamed[name])
        ddf = ddf.rename(columns=renamed)
        text_column = renamed.get(text_column, text_column)
    meta = ddf._meta.assign(**columns)
    return ddf.map_partitions(_score_partition, text_column, ref, known_path, meta=meta)


def _partition_queue(part: pd.DataFrame, text_column: str, ref: Any, options: dict[str, Any],
                     budget: int | None) -> Any:
    from kanalml.cli import _score_chunk
    from kanalml.rank import QueueBuilder

    model = _resolve(ref)
    scored = _score_chunk(model, part, text_column, model.threshold, as_pairs=True)
    scored = _add_known(scored, text_column, options.get("known"))
    builder = QueueBuilder(model.labels_, reach_column=options["reach_column"],
                           min_score=options["min_score"])
    builder.add(scored, text_column=text_column, channel_column=options["channel_column"],
                date_column=options["date_column"])
    return builder.prune(budget) if budget is not None else builder


def _merge(a: Any, b: Any) -> Any:
    return a.merge(b)


def rank_dataframe(ddf: Any, text_column: str, model: Any = None, *, budget: int | None = None,
                   channel_column: str | None = None, date_column: str | None = None,
                   reach_column: str | None = None, min_score: float = 0.0,
                   known: str | os.PathLike[str] | None = None
                   ) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    """The moderator queue over all partitions: (queue, channel summary, covered share).

    Columns and order as ``kanalml rank``. Each partition is scored and grouped
    where it lives; with ``budget`` it keeps only its first ``budget`` items
    (then an item's copies in partitions where it was pruned are not counted, and
    the covered share is a lower bound). The partial queues are merged pairwise
    in a tree, in partition order. With ``known`` (a known-content list's directory,
    loaded once per worker) items matching it come first, as with ``kanalml rank --known``.
    """
    import dask

    ref, _ = _model_ref(model)
    options = {"channel_column": channel_column, "date_column": date_column,
               "reach_column": reach_column, "min_score": min_score,
               "known": _known_path(known)}
    parts = [dask.delayed(_partition_queue)(p, text_column, ref, options, budget)
             for p in ddf.to_delayed()]
    while len(parts) > 1:
        pairs = [dask.delayed(_merge)(parts[i], parts[i + 1]) for i in range(0, len(parts) - 1, 2)]
        parts = pairs + ([parts[-1]] if len(parts) % 2 else [])
    builder = parts[0].compute()
    queue, covered = builder.queue(budget=budget)
    return queue, builder.channels(), covered


# -- kanalml score --engine dask -----------------------------------------------------------------

def expand(patterns: Sequence[str]) -> list[str]:
    """Input paths with (quoted) glob patterns expanded, in order, sorted within a pattern."""
    from kanalml.io import DataError

    paths: list[str] = []
    for pattern in patterns:
        if Path(pattern).exists() or not glob.has_magic(pattern):
            paths.append(pattern)
            continue
        found = sorted(glob.glob(pattern))
        if not found:
            raise DataError(f"{pattern}: no files match")
        paths.extend(found)
    return paths


def _spool_file(index: int, path: str, spool: str, model_path: str, reader_options: dict,
                threshold: float, known: str | None = None) -> dict[str, Any]:
    """Score one input file chunk by chunk into spool parts; return what the client needs."""
    from kanalml.cli import _score_chunk
    from kanalml.io import ExportReader

    model = _worker_model(model_path)
    warnings: list[str] = []
    reader = ExportReader([path], warn=warnings.append, **reader_options)
    parts, scores, columns = [], [], {}
    for c, (chunk, text_column) in enumerate(reader):
        scored = _add_known(_score_chunk(model, chunk, text_column, threshold), text_column, known)
        columns.update(dict.fromkeys(scored.columns))
        name = str(Path(spool) / f"{index:05d}-{c:05d}.parquet")
        scored.to_parquet(name, index=False)
        parts.append((name, len(scored)))
        scores.append(scored["score"].to_numpy())
    return {"parts": parts, "scores": np.concatenate(scores) if scores else np.zeros(0),
            "columns": list(columns), "rejected": reader.rejected,
            "skipped_chats": reader.skipped_chats, "rows": reader.rows_read,
            "warnings": warnings}


def _write_part(spool_part: str, target: str, ranks: np.ndarray, order: list[str],
                probabilities: list[str], min_score: float, top: int | None) -> Any:
    from kanalml.cli import DECIMALS
    from kanalml.io import AtomicWriter

    frame = pd.read_parquet(spool_part).reindex(columns=order)
    frame["rank"] = ranks
    frame = frame[frame["score"] >= min_score]
    frame[probabilities] = frame[probabilities].round(DECIMALS)
    if top is not None:
        return frame[frame["rank"] <= top]
    with AtomicWriter(target) as writer:
        writer.write(frame)
    return len(frame)


def _client(scheduler: str | None, workers: int | None) -> Any:
    from distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler), None
    cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1,
                           processes=True, dashboard_address=":0")
    return Client(cluster), cluster


def score_files(patterns: Sequence[str], out_dir: str | os.PathLike[str], *,
                model: str | os.PathLike[str] | None = None, fmt: str = "csv",
                scheduler: str | None = None, workers: int | None = None,
                text_column: str | None = None, on_bad_lines: str = "warn",
                keep_authors: bool = False, chunk_rows: int = 20_000,
                threshold: float | None = None, min_score: float = 0.0, top: int | None = None,
                report: Callable[[Any], None] | None = None,
                known: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Score every row of the inputs on a Dask cluster into ``out_dir``, one file per chunk
    (``part-FFFFF-CCCCC.<fmt>``: input file and chunk numbers), or with ``top`` one file.

    The same rows, columns, values and rank as ``kanalml score`` on the same inputs.
    ``out_dir`` must be new and reachable by every worker (a shared filesystem); it
    appears only when everything is written. Without ``scheduler`` a LocalCluster of
    ``workers`` processes is started and closed. ``report`` receives an object with
    ``rejected``, ``skipped_chats`` (the local engine's reader counters) and the
    readers' ``warnings``. ``known``: a known-content list's directory (reachable by every
    worker, loaded once per worker): adds ``known_id`` and ``known_similarity``.
    Returns counts: rows, flagged, threshold, files.
    """
    import kanalml
    from kanalml.io import DataError

    target = Path(out_dir)
    if target.exists():
        raise DataError(f"{target}: exists; give a new output directory")
    paths = expand(patterns)
    from kanalml.io import ExportReader

    ExportReader(paths)  # missing or unreadable files fail here, before a cluster starts
    known_path = _known_path(known)  # and so does a bad known-content list
    model_path = _model_path(model)
    loaded = kanalml.load_model(model_path)
    threshold = loaded.threshold if threshold is None else threshold
    labels = loaded.labels_
    reader_options = {"text_column": text_column, "chunk_rows": chunk_rows,
                      "on_bad_lines": on_bad_lines, "keep_authors": keep_authors,
                      "reserved": ["score", *labels, "flagged", "evidence", "rank"]}
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
        every = (np.concatenate([r["scores"] for r in results]) if results else np.zeros(0))
        rank = np.empty(len(every), dtype=np.int64)
        rank[np.argsort(-every, kind="stable")] = np.arange(1, len(every) + 1)
        columns: dict[str, None] = {}
        for r in results:
            columns.update(dict.fromkeys(r["columns"]))
        order = [c for c in columns if c != "rank"] + ["rank"]
        jobs, start = [], 0
        for r in results:
            for name, n in r["parts"]:
                part = Path(name).stem
                jobs.append((name, str(staged / f"part-{part}.{fmt}"), rank[start:start + n]))
                start += n
        written = client.gather(client.map(
            _write_part, [j[0] for j in jobs], [j[1] for j in jobs], [j[2] for j in jobs],
            order=order, probabilities=["score", *labels, *(["known_similarity"] if known else [])],
            min_score=min_score, top=top,
            pure=False))
        if top is not None:
            from kanalml.io import AtomicWriter

            kept = [frame for frame in written if len(frame)]
            frame = (pd.concat(kept) if kept else pd.DataFrame(columns=order)).sort_values("rank")
            with AtomicWriter(staged / f"part-00000-00000.{fmt}") as writer:
                writer.write(frame)
        if report is not None:
            from types import SimpleNamespace

            skipped: dict[str, int] = {}
            for r in results:
                for kind, count in r["skipped_chats"].items():
                    skipped[kind] = skipped.get(kind, 0) + count
            report(SimpleNamespace(rejected=[x for r in results for x in r["rejected"]],
                                   skipped_chats=skipped,
                                   warnings=[w for r in results for w in r["warnings"]]))
        os.replace(staged, target)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
        shutil.rmtree(work, ignore_errors=True)
    return {"rows": len(every), "flagged": int((every >= threshold).sum()),
            "threshold": threshold, "files": len(paths)}

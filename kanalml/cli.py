"""The ``kanalml`` command: score exports and build the moderator review queue.

Owns argument parsing, progress bars, messages and exit codes; each command calls a library
function (:mod:`kanalml.pipeline` for score and rank, :mod:`kanalml.dask` for
``--engine dask``) and prints what it returns. It knows nothing of what the outputs hold, and
no other module imports it.

Exit status: 0 on success, 1 on a :class:`kanalml.KanalmlError` (the data or a model: the
message names the file and line; turned into that one line in :func:`main` only), 2 on a
usage error. Anything else is a bug and keeps its traceback. Messages and progress go to
stderr; data goes to the output file, or to stdout when no output file is given.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import signal
import sys
import threading
import warnings
from collections.abc import Sequence
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import kanalml
from kanalml import pipeline
from kanalml.errors import (
    DataError,
    KanalmlError,
    existing_output,
    new_output_directory,
    write_directory,
)

FORCE_HELP = "replace OUTPUT if it exists (default: refuse, so nothing is lost)"
SHEET_HELP = "in .xlsx, .xls and .ods inputs, read only this sheet (default: every sheet)"


_ACTIVE_BAR: Any = None  # the run's progress bar while it is open: warnings go above it


def _warn(message: str) -> None:
    line = f"kanalml: warning: {message}"
    if _ACTIVE_BAR is not None:
        _ACTIVE_BAR.write(line, file=sys.stderr)
    else:
        print(line, file=sys.stderr)


def _shows_progress(args: argparse.Namespace) -> bool:
    """A bar only for a person watching: not with --quiet, not when stderr is a file or pipe
    (a log would fill with redrawn bars)."""
    return not getattr(args, "quiet", False) and sys.stderr.isatty()


def _replaced(args: argparse.Namespace, paths: Sequence[str | None]) -> list[str]:
    """The outputs of this run that exist, to say they were replaced: every command refuses
    them unless --force (:func:`kanalml.errors.existing_output`, checked before any work by
    the library function a command calls)."""
    return [str(p) for p in paths if args.force and existing_output(p, force=True)]


def _say_replaced(args: argparse.Namespace, replaced: Sequence[str]) -> None:
    if replaced and not getattr(args, "quiet", False):
        print(f"kanalml: replaced {', '.join(replaced)} (--force)", file=sys.stderr)


class _Progress:
    """The run's one progress bar on stderr (rows, rows/s, ETA), with the total when it is
    known (:func:`kanalml.io.estimate_rows`: CSV/TSV records, Parquet metadata, JSON Lines
    lines, the messages of a Telegram export's public chats), opened at the first rows (after
    every check passed and the model loaded) and closed before any summary at the rows that
    came: an estimate a little off still ends at 100% (more rows than the total show as a
    count, never past 100%). Warnings are printed above it. None with --quiet or when stderr is
    not a terminal."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.bar: Any = None
        self.shown = _shows_progress(args)

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, kind: object, *_rest: object) -> None:
        global _ACTIVE_BAR
        if self.bar is not None:
            if kind is None and self.bar.total is not None:
                self.bar.total = self.bar.n  # rejected rows never come: end at 100%
            self.bar.close()
            _ACTIVE_BAR = None

    def advance(self, rows: int) -> None:
        global _ACTIVE_BAR
        if not self.shown:
            return
        if self.bar is None:
            from tqdm import tqdm

            from kanalml.io import estimate_rows

            self.bar = tqdm(total=estimate_rows(self.args.inputs), unit=" rows",
                            file=sys.stderr, dynamic_ncols=True, mininterval=0.5)
            _ACTIVE_BAR = self.bar
        self.bar.update(rows)

    def warn(self, message: str) -> None:
        _warn(message)


def _distinct_inputs(inputs: Sequence[str]) -> list[str]:
    """The inputs with a file given twice (overlapping globs, a link) read once, with a warning:
    read twice, its posts would count twice as copies in the queue."""
    kept: list[str] = []
    for name in inputs:
        twin = next((k for k in kept if pipeline.same_file(Path(name), Path(k))), None)
        if twin is None:
            kept.append(name)
        else:
            _warn(f"{name}: the same file as {twin}, given before; it is read once")
    return kept


def _reading_options(args: argparse.Namespace) -> dict[str, Any]:
    """The options of score and rank that say how the inputs are read and rows rejected."""
    return {"text_column": args.text_column, "on_bad_lines": args.on_bad_lines,
            "keep_authors": args.keep_authors, "chunk_rows": args.chunk_rows,
            "rejects": args.rejects, "sheet": args.sheet}


def _score_on_dask(args: argparse.Namespace) -> int:
    """``score --engine dask``: the same output as the local engine, one file per chunk."""
    try:
        from kanalml.dask import score_files
    except ImportError as exc:
        print(f"kanalml: error: --engine dask needs the dask extra: pip install "
              f"\"kanalml[dask]\" ({exc})", file=sys.stderr)
        return 2
    if not args.output or args.output == "-":
        print("kanalml: error: --engine dask writes a directory: give -o OUT_DIR",
              file=sys.stderr)
        return 2
    replaced = _replaced(args, [args.output])
    summary = score_files(args.inputs, args.output, model=args.model, fmt=args.format,
                          scheduler=args.scheduler, workers=args.workers,
                          threshold=args.threshold, min_score=args.min_score, top=args.top,
                          known=args.known, warn=_warn, force=args.force,
                          **_reading_options(args))
    _say_replaced(args, replaced)
    if not args.quiet:
        print(f"kanalml: scored {summary.rows} rows from {summary.files} file(s) on Dask; "
              f"{summary.flagged} flagged at threshold {summary.threshold:.3f}; wrote "
              f"{args.output}", file=sys.stderr)
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    """Score every row; add score, labels, flagged, rank and evidence; keep every input column."""
    if args.engine == "dask":
        return _score_on_dask(args)
    replaced = _replaced(args, [args.output, args.rejects])
    with _Progress(args) as progress:
        summary = pipeline.score_files(
            args.inputs, args.output or "-", model=args.model, threshold=args.threshold,
            min_score=args.min_score, top=args.top, known=args.known, jobs=args.jobs,
            warn=progress.warn, progress=progress.advance, force=args.force,
            **_reading_options(args))
    _say_replaced(args, replaced)
    if not args.quiet:
        print(f"kanalml: scored {summary.rows} rows; {summary.flagged} flagged at threshold "
              f"{summary.threshold:.3f}", file=sys.stderr)
    return 0


def cmd_rank(args: argparse.Namespace) -> int:
    """Build the moderator queue: one item per distinct message, highest priority first."""
    replaced = _replaced(args, [args.output, args.channels, args.rejects])
    with _Progress(args) as progress:
        summary = pipeline.rank_files(
            args.inputs, args.output or "-", channels=args.channels, model=args.model,
            threshold=args.threshold, min_score=args.min_score, budget=args.budget,
            reach_column=args.reach_column, known=args.known, jobs=args.jobs,
            warn=progress.warn, progress=progress.advance, force=args.force,
            fmt=args.format, **_reading_options(args))
    _say_replaced(args, replaced)
    if args.known and not args.quiet:
        counts = summary.known_counts
        items = int(summary.queue["known_id"].notna().sum())
        print(f"kanalml: {sum(counts.values())} post(s) in {items} queue item(s) match the known "
              f"list {args.known}; they come first", file=sys.stderr)
        for channel, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            print(f"kanalml:   {channel}: {count} known", file=sys.stderr)
    if args.budget is not None and not args.quiet:
        print(f"kanalml: the first {len(summary.queue)} items cover {summary.covered:.1%} of the "
              "expected positives (sum of scores)", file=sys.stderr)
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    """Review a queue (kanalml rank output, or kanalml suggest output) in the browser: every
    decision is saved in the decisions store and its CSV export (the file kanalml train
    --feedback reads) before the page shows it as saved."""
    import getpass
    import webbrowser

    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        print(f"kanalml: error: kanalml review needs the review extra: pip install "
              f"\"kanalml[review]\" ({exc})", file=sys.stderr)
        return 2
    from kanalml.review import DecisionStore, load_items, server

    loopback = server.is_loopback(args.host)
    if args.no_token and not loopback:
        print(f"kanalml: error: --no-token is refused with --host {args.host}: anyone on the "
              "network could record decisions", file=sys.stderr)
        return 2
    if not loopback and args.token is None:
        print(f"kanalml: error: --host {args.host} lets other machines reach the page: add "
              "--token (one is generated and printed) or --token VALUE", file=sys.stderr)
        return 2
    if args.token and server.check_token(args.token):
        print(f"kanalml: error: --token: {server.check_token(args.token)}", file=sys.stderr)
        return 2
    token = None if args.no_token else (args.token or server.new_token())
    reviewer = args.reviewer if args.reviewer is not None else getpass.getuser()
    if not reviewer.strip() or len(reviewer) > 64 or not reviewer.isprintable():
        print(f"kanalml: error: --reviewer {reviewer!r}: give a name of 1 to 64 printable "
              "characters", file=sys.stderr)
        return 2
    items = load_items(args.queue)
    target = Path(args.decisions) if args.decisions else server.default_decisions(args.queue)
    log = DecisionStore(target)
    try:
        sock = server.bind(args.host, args.port)
    except OSError as exc:
        raise DataError(f"cannot listen on {args.host}:{args.port}: "
                        f"{exc.strerror or exc} (choose another --port)") from None
    port = sock.getsockname()[1]
    app = server.create_app(items, log, name=Path(args.queue).name, reviewer=reviewer,
                            token=token, hosts=server.allowed_hosts(args.host, port),
                            cookie=f"kanalml_token_{port}")
    shown = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{shown}:{port}/" + (f"?token={token}" if token else "")
    earlier = sum(1 for by in log.state.values() if reviewer in by)
    print(f"kanalml: reviewing {args.queue} ({len(items)} items, {earlier} decided earlier by "
          f"{reviewer}); decisions go to {log.path} (CSV export: {log.export})",
          file=sys.stderr)
    if token is None:
        print("kanalml: warning: --no-token: every account on this machine can open the page "
              "and record decisions as " + reviewer, file=sys.stderr)
    print(f"kanalml: open {url}  (Ctrl+C to stop)", file=sys.stderr, flush=True)
    with contextlib.ExitStack() as opened:
        if not args.no_browser:
            try:
                page = opened.enter_context(server.redirect_page(url))
            except OSError as exc:
                print(f"kanalml: warning: no browser opened (its start page cannot be written: "
                      f"{exc}); open the address above", file=sys.stderr)
            else:
                webbrowser.open(page.as_uri())
        try:
            server.serve(app, sock)
        except KeyboardInterrupt:  # a second Ctrl+C, or one uvicorn passes on after stopping
            pass
        finally:
            saved = log.count()
            log.close()
    print(f"kanalml: stopped; every decision is saved: {saved} row(s) in {log.path}, exported "
          f"to {log.export}", file=sys.stderr)
    return 0


def _train_progress(args: argparse.Namespace) -> Any:
    """A callback for :func:`kanalml.train` that shows its steps as a progress bar (none with
    --quiet or when stderr is not a terminal)."""
    if not _shows_progress(args):
        return None, lambda: None
    from tqdm import tqdm

    bar = tqdm(total=args.folds + 1, unit=" step", file=sys.stderr, dynamic_ncols=True)

    def step(message: str) -> None:
        if bar.desc:
            bar.update(1)
        bar.set_description(message)

    def close() -> None:
        bar.update(bar.total - bar.n)
        bar.close()

    return step, close


def cmd_train(args: argparse.Namespace) -> int:
    """Train a model on labelled posts (moderator decisions merged in) and save it, with its
    manifest, metadata and model card, into a new directory."""
    import shlex

    from kanalml.artifact import file_sha256
    from kanalml.card import model_card
    from kanalml.labelled import ID_COLUMNS, merge_decisions, read_decisions, read_labelled
    from kanalml.provenance import record_training

    target = new_output_directory(args.output, force=args.force)  # replaced only with --force
    replaced = _replaced(args, [args.output])
    frame, text_column, labels = read_labelled(args.inputs, text_column=args.text_column,
                                               labels=args.labels, where=args.where,
                                               sheet=args.sheet)
    feedback = None
    if args.feedback:
        decisions = read_decisions(args.feedback, labels)
        id_column = args.id_column or pipeline.find_column(list(frame.columns), ID_COLUMNS)
        frame, counts = merge_decisions(frame, text_column, labels, decisions, id_column)
        feedback = {"file": Path(args.feedback).name, "sha256": file_sha256(args.feedback),
                    **counts}
    step, close = _train_progress(args)
    try:
        prevalence = {} if args.prevalence is None else {"prevalence": args.prevalence}
        model = kanalml.train(frame[text_column], frame[labels], folds=args.folds,
                              random_state=args.seed, target_precision=args.target_precision,
                              beta=args.beta, progress=step, **prevalence)
    except DataError as exc:  # the labels' problem, said of the files they came from
        raise DataError(f"{', '.join(args.inputs)}: {exc}") from None
    finally:
        close()
    built_by = shlex.join(["kanalml", *args.argv])
    training = record_training(model, args.inputs, built_by=built_by,
                               options={"target_precision": args.target_precision,
                                        "beta": args.beta,
                                        "prevalence": model.metadata_["prevalence"]})
    if feedback:
        model.metadata_["feedback"] = feedback
    data = "\n".join(f"`{f['file']}` (SHA-256 `{f['sha256']}`)." for f in training["files"])
    data += "\nLicense: that of the data; record it here before sharing the model."
    card = model_card(model, target.name, data=data, built_by=built_by)
    write_directory(target, lambda new: model.save(new, card=card))
    _say_replaced(args, replaced)
    if not args.quiet:
        for label in model.labels_:
            m = model.metadata_["cv"]["metrics"][label]
            print(f"{label}: CV average precision {m['average_precision']:.4f}, ROC-AUC "
                  f"{m['roc_auc']:.4f}, threshold {model.metadata_['thresholds'][label]:.3f} "
                  f"(precision {m['precision']:.3f}, recall {m['recall']:.3f})", file=sys.stderr)
        if feedback:
            print(f"kanalml: merged {feedback['decisions']} decisions: {feedback['updated']} "
                  f"rows relabelled, {feedback['added']} posts added; {feedback['undecided']} "
                  "rows without a decision skipped", file=sys.stderr)
        print(f"kanalml: wrote {target}", file=sys.stderr)
    return 0


def cmd_models_list(args: argparse.Namespace) -> int:
    """List saved models with their CV metrics; each is verified against its manifest."""
    from kanalml.api import default_model_path
    from kanalml.catalog import list_models

    roots = args.roots or [p for p in ("models",) if Path(p).is_dir()] + [default_model_path()]
    table = list_models(roots)
    if table.empty:
        print(f"kanalml: no models in {', '.join(map(str, roots))}", file=sys.stderr)
        return 1
    print(table.fillna("-").to_string(index=False))
    return 0 if (table["status"] == "ok").all() else 1


def cmd_models_compare(args: argparse.Namespace) -> int:
    """Evaluate two models on the same labelled posts and print their metrics side by side."""
    from kanalml.catalog import compare
    from kanalml.labelled import read_labelled

    frame, text_column, labels = read_labelled(args.inputs, text_column=args.text_column,
                                               labels=args.labels, where=args.where,
                                               sheet=args.sheet)
    try:
        table = compare(args.a, args.b, frame[text_column].tolist(), frame[labels])
    except DataError as exc:  # a problem of the data as a whole: name its files
        raise DataError(f"{', '.join(args.inputs)}: {exc}") from None
    a, b = Path(args.a).name, Path(args.b).name
    if a == b:
        a, b = str(args.a), str(args.b)
    table = table.rename(columns={"a": a, "b": b, "b_minus_a": f"{b} - {a}"})
    print(f"{len(frame)} posts from {', '.join(args.inputs)}"
          + "".join(f" where {c} = {', '.join(v)}" for c, v in args.where))
    print(table.fillna("-").to_string(index=False))
    return 0


def _same_path(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    first, second = Path(a), Path(b)
    if first.exists() and second.exists():
        return os.path.samefile(first, second)
    return first.resolve() == second.resolve()


def cmd_known_add(args: argparse.Namespace) -> int:
    """Add confirmed posts to a list: decisions labelled 1, or rows labelled 1 of a file with a
    label column; a queue or unlabelled texts only with --all-confirmed."""
    from kanalml import known
    from kanalml.labelled import read_confirmed
    from kanalml.lexicon import CATEGORIES

    if args.category and args.category not in CATEGORIES:
        print(f"kanalml: error: --category {args.category!r} is not a category of the extremism "
              f"taxonomy ({', '.join(CATEGORIES)})", file=sys.stderr)
        return 2
    target = Path(args.list)
    with known.updating(target, waiting=_warn) as listing:
        before = len(listing)
        for name in args.files:
            rows, kind = read_confirmed(name, text_column=args.text_column,
                                        all_confirmed=args.all_confirmed, sheet=args.sheet)
            categories = [c or args.category for c in rows["category"].tolist()]
            added = listing.add(rows["text"].tolist(), added_by=args.added_by,
                                categories=categories, sources=rows["source"].tolist())
            if not args.quiet:
                print(f"kanalml: {name} ({kind}): {len(rows)} confirmed post(s), {added} new "
                      "item(s)", file=sys.stderr)
        listing.record("add", args.added_by, added=len(listing) - before,
                       files=[Path(name).name for name in args.files],
                       **({"all_confirmed": True} if args.all_confirmed else {}))
    if not args.quiet:
        print(f"kanalml: {target}: {len(listing)} item(s) ({len(listing) - before} added)",
              file=sys.stderr)
    return 0


def cmd_known_remove(args: argparse.Namespace) -> int:
    """Take items out of a list by id (known_id in score and rank output); the removal, who
    made it and why are kept in the list's history."""
    from kanalml import known

    with known.locked(args.list, waiting=_warn) as target:
        listing = known.load(target)
        try:
            removed = listing.remove(args.ids)
        except known.KnownListError as exc:
            raise known.KnownListError(f"{target}: {exc}") from None
        listing.record("remove", args.by, ids=[item["id"] for item in removed],
                       sha256=[item["sha256"] for item in removed],
                       **({"reason": args.reason} if args.reason else {}))
        listing.save(target)
    if not args.quiet:
        print(f"kanalml: {target}: removed {len(removed)} item(s); {len(listing)} left",
              file=sys.stderr)
    return 0


def cmd_known_merge(args: argparse.Namespace) -> int:
    """Merge lists from several organisations: one item per hash, provenance kept."""
    from kanalml import known

    into_input = any(_same_path(name, args.output) for name in args.lists)
    if not into_input:  # merging into one of the lists updates it, like known add
        existing_output(args.output, args.force)
    replaced = [] if into_input else _replaced(args, [args.output])
    with known.locked(args.output, waiting=_warn) as target:
        merged = known.load(args.lists[0])
        for name in args.lists[1:]:
            merged = known.merge(merged, known.load(name))
        for name in args.lists:
            if _same_path(name, target) and merged.hash_only and not known.load(name).hash_only:
                raise known.KnownListError(
                    f"{target}: merging a hash-only list into it would drop its texts; write "
                    "the merged list to a new directory")
        merged.record("merge", "kanalml", lists=[str(name) for name in args.lists])
        merged.save(target)
    _say_replaced(args, replaced)
    if not args.quiet:
        print(f"kanalml: {args.output}: {len(merged)} item(s) from {len(args.lists)} list(s)"
              + (" (hash-only)" if merged.hash_only else ""), file=sys.stderr)
    return 0


def cmd_known_show(args: argparse.Namespace) -> int:
    """Counts by category, organisation and month, and the latest entries of the history."""
    from kanalml import known

    listing = known.load(args.list)
    kind = "hash-only" if listing.hash_only else "with texts"
    print(f"{args.list}: {len(listing)} item(s), {kind}")
    for title, counts in listing.summary().items():
        print(f"by {title}:")
        for name, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            print(f"  {count:>7}  {name}")
    if listing.history:
        print(f"history (latest {min(len(listing.history), 20)} of {len(listing.history)}):")
        for entry in listing.history[-20:]:
            details = ", ".join(f"{k}={v}" for k, v in entry.items()
                                if k not in ("at", "action", "by", "sha256"))
            print(f"  {entry.get('at')}  {entry.get('action')} by {entry.get('by')}"
                  + (f": {details}" if details else ""))
    return 0


def cmd_known_export(args: argparse.Namespace) -> int:
    """Write a copy of a list to share; --hash-only drops the texts."""
    from kanalml import known

    if _same_path(args.list, args.output):
        raise known.KnownListError(f"{args.output}: is the list being exported; export to "
                                   "another directory")
    replaced = _replaced(args, [args.output])
    existing_output(args.output, args.force)
    listing = known.load(args.list)
    with known.locked(args.output, waiting=_warn) as target:
        if args.hash_only:
            listing = listing.without_text()
        listing.record("export", "kanalml", source=str(args.list),
                       **({"hash_only": True} if args.hash_only else {}))
        listing.save(target)
    _say_replaced(args, replaced)
    if not args.quiet:
        print(f"kanalml: {args.output}: {len(listing)} item(s)"
              + (", no texts" if listing.hash_only else ""), file=sys.stderr)
    return 0


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got "
                                         f"{value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return number


def _share(value: str) -> float:
    number = _probability(value)
    if number in (0.0, 1.0):
        raise argparse.ArgumentTypeError(f"must be above 0 and below 1, got {value}")
    return number


def _probability(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got "
                                         f"{value!r}") from None
    if not 0.0 <= number <= 1.0 or math.isnan(number):
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {value}")
    return number


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Evaluate a model on labelled posts: metrics per label (and per group), PNG plots and a
    self-contained HTML report in REPORT_DIR."""
    import pandas as pd

    from kanalml.labelled import read_labelled
    from kanalml.report import write_report

    model = kanalml.load_model(args.model)
    target = new_output_directory(args.output, force=args.force)
    replaced = _replaced(args, [args.output])
    frame, text_column, labels = read_labelled(args.inputs, text_column=args.text_column,
                                               labels=args.labels, where=args.where,
                                               sheet=args.sheet)
    known = [label for label in labels if label in model.labels_]
    if not known:
        raise DataError(f"{', '.join(args.inputs)}: none of the label columns "
                        f"({', '.join(labels)}) is scored by the model "
                        f"({', '.join(model.labels_)}); map a column to a label with "
                        "--labels LABEL=COLUMN, e.g. --labels ekstremisme=label")
    groups = None
    if args.group_column:
        if args.group_column not in frame.columns:
            raise DataError(f"{args.inputs[0]}: no group column {args.group_column!r} "
                            f"(columns: {', '.join(c for c in frame.columns if c[0] != '_')})")
        groups = frame[args.group_column].tolist()
    name = Path(args.model).name if args.model else "default (shipped)"
    page = write_report(model, frame[text_column].tolist(), frame[known], target,
                        groups=groups, name=name, source=", ".join(args.inputs),
                        force=args.force)
    _say_replaced(args, replaced)
    # only empty cells are missing: a group may be called "NA"
    table = pd.read_csv(target / "metrics.csv", dtype={"label": str, "group": str},
                        keep_default_na=False, na_values=[""])
    if not args.quiet:
        shown = table[table["group"] == "(all)"].drop(columns="group")
        with pd.option_context("display.float_format", "{:.4f}".format,
                               "display.width", 200):
            print(shown.to_string(index=False))
        print(f"kanalml: report in {page}", file=sys.stderr)
    return 0


def cmd_suggest(args: argparse.Namespace) -> int:
    """Pick the N posts whose labels would teach the model most (uncertain, diverse, duplicates
    collapsed), with empty label and decided_at columns for moderators to fill in and pass
    to kanalml train --feedback."""
    from kanalml.io import ExportReader
    from kanalml.suggest import Suggester

    rejects = pipeline.rejects_path(args.output, args.rejects)
    replaced = pipeline.check_outputs(args.inputs, [args.output, rejects], tables=[args.output],
                                      force=args.force,
                                      companions=[None if args.rejects else rejects])
    model = kanalml.load_model(args.model)
    suggester = Suggester(model, args.n)
    with _Progress(args) as progress:
        reader = ExportReader(args.inputs, text_column=args.text_column,
                              chunk_rows=args.chunk_rows, on_bad_lines=args.on_bad_lines,
                              keep_authors=args.keep_authors, warn=progress.warn,
                              reserved=Suggester.ADDED, sheet=args.sheet)
        for chunk, text_column in reader:
            suggester.add(chunk, text_column)
            progress.advance(len(chunk))
    picked = suggester.suggestions()
    picked[["score", "uncertainty"]] = picked[["score", "uncertainty"]].round(pipeline.DECIMALS)
    pipeline.write_frames([picked], args.output or "-")
    pipeline.report(pipeline.Diagnostics().read(reader), output=args.output,
                    rejects=args.rejects, on_bad_lines=args.on_bad_lines, warn=_warn)
    _say_replaced(args, replaced)
    if not args.quiet:
        print(f"kanalml: {len(picked)} posts to label, from {reader.rows_read} rows",
              file=sys.stderr)
    return 0


def _label_mapping(value: str) -> dict[str, str]:
    from kanalml.labelled import label_mapping

    try:
        return label_mapping(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _row_filter(value: str) -> tuple[str, list[str]]:
    from kanalml.labelled import row_filter

    try:
        return row_filter(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kanalml",
        description="Score Indonesian public-channel posts for extremist content and build a "
                    "ranked review queue for human moderators.")
    parser.add_argument("--version", action="version", version=f"kanalml {kanalml.__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common(sub: argparse.ArgumentParser, output_help: str) -> None:
        sub.add_argument("inputs", nargs="+", metavar="INPUT",
                         help="CSV/TSV, JSON Lines, Parquet (optionally .gz), Excel .xlsx or "
                              ".xls, OpenDocument .ods or Telegram export (result.json)")
        sub.add_argument("-o", "--output", metavar="OUTPUT", help=output_help)
        sub.add_argument("--model", metavar="DIR", help="model directory (default: shipped model)")
        sub.add_argument("--text-column", metavar="NAME", help="column holding the post text")
        sub.add_argument("--sheet", metavar="NAME", help=SHEET_HELP)
        sub.add_argument("--threshold", type=_probability,
                         help="flag posts with score >= this (default: the model's)")
        sub.add_argument("--min-score", type=_probability, default=0.0,
                         help="leave out posts scoring below this")
        sub.add_argument("--on-bad-lines", choices=("error", "warn", "skip"), default="warn",
                         help="malformed rows: stop, or list them in OUTPUT.rejects.csv "
                              "(warn: and say so)")
        sub.add_argument("--rejects", metavar="FILE",
                         help="list malformed rows in FILE (CSV), written even if empty "
                              "(default: OUTPUT.rejects.csv when rows are rejected)")
        sub.add_argument("--keep-authors", action="store_true",
                         help="keep user names and ids (left out by default)")
        sub.add_argument("--jobs", type=_positive_int, default=1, metavar="N",
                         help="score on N processes")
        sub.add_argument("--chunk-rows", type=_positive_int, default=20_000, metavar="N",
                         help=argparse.SUPPRESS)
        sub.add_argument("-q", "--quiet", action="store_true", help="no progress or summary")
        sub.add_argument("--force", action="store_true", help=FORCE_HELP)

    score = commands.add_parser("score", help="score every post of the inputs",
                                description=cmd_score.__doc__)
    common(score, "output file, format by extension: .csv, .tsv, .jsonl, .parquet, .xlsx, .gz "
                  "(default: CSV on stdout)")
    score.add_argument("--top", type=_positive_int, metavar="N",
                       help="write only the N highest-scoring rows, in rank order")
    score.add_argument("--engine", choices=("local", "dask"), default="local",
                       help="dask: score on a Dask cluster into OUTPUT as a directory of "
                            "files (needs kanalml[dask]; quoted globs are expanded)")
    score.add_argument("--scheduler", metavar="ADDRESS",
                       help="with --engine dask: a running scheduler (default: start a "
                            "local cluster)")
    score.add_argument("--workers", type=_positive_int, metavar="N",
                       help="with --engine dask and no --scheduler: local worker processes "
                            "(default: one per core)")
    score.add_argument("--format", choices=("csv", "tsv", "jsonl", "parquet"), default="csv",
                       help="with --engine dask: format of the output files (default csv)")
    score.set_defaults(run=cmd_score)

    rank = commands.add_parser("rank", help="build the moderator review queue",
                               description=cmd_rank.__doc__)
    common(rank, "queue file (default: CSV on stdout); .html: one self-contained read-only "
                 "page")
    rank.add_argument("--channels", metavar="FILE", help="also write a per-channel summary")
    for sub in (score, rank):
        sub.add_argument("--known", metavar="LIST",
                         help="known-content list: add known_id and known_similarity"
                              + (" and put known matches first" if sub is rank else ""))
    rank.add_argument("--budget", type=_positive_int, metavar="N",
                      help="keep the first N items and report the share of expected "
                           "positives they cover")
    rank.add_argument("--format", choices=("label-studio",),
                      help="label-studio: write the queue as Label Studio tasks (JSON) with "
                           "score, category and evidence as pre-annotations, and the labelling "
                           "config beside them (OUTPUT.label-config.xml)")
    rank.add_argument("--reach-column", metavar="NAME",
                      help="weigh priority by reach (views or forwards); see docs/reference.md")
    rank.set_defaults(run=cmd_rank)

    review = commands.add_parser("review", help="review a queue in the browser",
                                 description=cmd_review.__doc__)
    review.add_argument("queue", metavar="QUEUE", help="a queue from kanalml rank, or kanalml "
                        "suggest output")
    review.add_argument("--decisions", metavar="FILE",
                        help="decisions store NAME.sqlite, shared by every reviewer given it, "
                             "with its CSV export NAME.csv beside it (the file train --feedback "
                             "and spreadsheets read); NAME.csv may be given for the pair, and a "
                             "decisions CSV of an earlier kanalml is imported (default: "
                             "QUEUE.decisions.sqlite beside the queue)")
    review.add_argument("--reviewer", metavar="NAME",
                        help="name recorded with each decision (default: your user name)")
    review.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1: this machine only; "
                             "any other needs --token, as a reminder that the network reaches "
                             "it)")
    review.add_argument("--port", type=int, default=8765, metavar="N",
                        help="port (default 8765; 0: any free port)")
    access = review.add_mutually_exclusive_group()
    access.add_argument("--token", nargs="?", const="", metavar="VALUE",
                        help="the access token every request needs, on loopback too (default, "
                             "or no VALUE: 32 random bytes); printed at start in the URL to "
                             "open, then kept in a cookie; a VALUE needs 22+ characters of "
                             "A-Z a-z 0-9 - _")
    access.add_argument("--no-token", action="store_true",
                        help="no access token (loopback only): every account on this machine "
                             "can then open the page and decide as you")
    review.add_argument("--no-browser", action="store_true", help="do not open a browser")
    review.set_defaults(run=cmd_review)

    def labelled(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--text-column", metavar="NAME", help="column holding the post text")
        sub.add_argument("--sheet", metavar="NAME", help=SHEET_HELP)
        sub.add_argument("--labels", type=_label_mapping, metavar="A,B",
                         help="0/1 label columns (default: every column of 0s and 1s); "
                              "LABEL=COLUMN reads a label from a column named otherwise, "
                              "e.g. ekstremisme=label")
        sub.add_argument("--where", type=_row_filter, action="append", default=[],
                         metavar="COLUMN=VALUE",
                         help="only the rows whose COLUMN holds VALUE (VALUE1,VALUE2: either), "
                              "e.g. pass=4; repeat to require several")

    train = commands.add_parser("train", help="train and save a new model",
                                description=cmd_train.__doc__)
    train.add_argument("inputs", nargs="+", metavar="DATA",
                       help="labelled posts: a text column and 0/1 label columns")
    train.add_argument("-o", "--output", required=True, metavar="DIR",
                       help="new model directory, e.g. models/netifier-v2")
    labelled(train)
    train.add_argument("--feedback", metavar="DECISIONS",
                       help="moderator decisions to merge: kanalml review's store (.sqlite) or "
                            "its CSV export, or any CSV of message id or text, label, "
                            "decided_at (the latest decision per post wins)")
    train.add_argument("--id-column", metavar="NAME",
                       help="message id column of DATA that decisions refer to")
    rule = train.add_mutually_exclusive_group()
    rule.add_argument("--target-precision", type=_probability, metavar="P",
                      help="threshold: the lowest whose out-of-fold precision reaches P")
    rule.add_argument("--beta", type=float, default=0.5, metavar="B",
                      help="threshold: best out-of-fold F-B (default 0.5; 1 for best F1)")
    train.add_argument("--prevalence", type=_share, metavar="P",
                       help="share of extremist posts in the channels the model will score, "
                            "for its calibration and threshold (default 0.001: 1 in 1,000)")
    train.add_argument("--folds", type=_positive_int, default=5, metavar="K",
                       help="cross-validation folds (default 5)")
    train.add_argument("--seed", type=int, default=0, help="fold shuffling seed (default 0)")
    train.add_argument("-q", "--quiet", action="store_true", help="no progress or summary")
    train.add_argument("--force", action="store_true", help=FORCE_HELP)
    train.set_defaults(run=cmd_train)

    models = commands.add_parser("models", help="list or compare saved models")
    actions = models.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="list saved models",
                                 description=cmd_models_list.__doc__)
    listing.add_argument("roots", nargs="*", metavar="DIR",
                         help="model directories or folders of them (default: ./models and "
                              "the shipped model)")
    listing.set_defaults(run=cmd_models_list)
    comparing = actions.add_parser("compare", help="compare two models on labelled posts",
                                   description=cmd_models_compare.__doc__)
    comparing.add_argument("a", metavar="A", help="model directory")
    comparing.add_argument("b", metavar="B", help="model directory")
    comparing.add_argument("inputs", nargs="+", metavar="DATA", help="labelled posts")
    labelled(comparing)
    comparing.set_defaults(run=cmd_models_compare)

    evaluate = commands.add_parser("evaluate", help="evaluate a model; write an HTML report",
                                   description=cmd_evaluate.__doc__)
    evaluate.add_argument("inputs", nargs="+", metavar="DATA", help="labelled posts")
    evaluate.add_argument("-o", "--output", required=True, metavar="REPORT_DIR",
                          help="new directory for report.html, metrics and plots")
    evaluate.add_argument("--model", metavar="DIR", help="model directory (default: shipped model)")
    labelled(evaluate)
    evaluate.add_argument("--group-column", metavar="NAME",
                          help="also break the metrics down by this column (e.g. source)")
    evaluate.add_argument("-q", "--quiet", action="store_true", help="no summary")
    evaluate.add_argument("--force", action="store_true", help=FORCE_HELP)
    evaluate.set_defaults(run=cmd_evaluate)

    suggest = commands.add_parser("suggest", help="pick posts for moderators to label next",
                                  description=cmd_suggest.__doc__)
    suggest.add_argument("inputs", nargs="+", metavar="DATA", help="unlabelled posts, any "
                         "input format of score")
    suggest.add_argument("-n", type=_positive_int, default=50, metavar="N",
                         help="how many posts (default 50)")
    suggest.add_argument("-o", "--output", metavar="OUTPUT",
                         help="output file, format by extension (default: CSV on stdout)")
    suggest.add_argument("--model", metavar="DIR", help="model directory (default: shipped model)")
    suggest.add_argument("--text-column", metavar="NAME", help="column holding the post text")
    suggest.add_argument("--sheet", metavar="NAME", help=SHEET_HELP)
    suggest.add_argument("--on-bad-lines", choices=("error", "warn", "skip"), default="warn",
                         help="malformed rows: stop, or list them in OUTPUT.rejects.csv")
    suggest.add_argument("--rejects", metavar="FILE",
                         help="list malformed rows in FILE (CSV), written even if empty")
    suggest.add_argument("--keep-authors", action="store_true",
                         help="keep user names and ids (left out by default)")
    suggest.add_argument("--chunk-rows", type=_positive_int, default=20_000, metavar="N",
                         help=argparse.SUPPRESS)
    suggest.add_argument("-q", "--quiet", action="store_true", help="no progress or summary")
    suggest.add_argument("--force", action="store_true", help=FORCE_HELP)
    suggest.set_defaults(run=cmd_suggest)

    known = commands.add_parser("known", help="lists of confirmed items, matched on every run")
    known_actions = known.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = known_actions.add_parser("add", help="add confirmed posts to a list (created if new)",
                                   description="Add posts a person confirmed as extremist to "
                                   "LIST: decisions labelled 1 (kanalml review's store or its "
                                   "CSV export), or the rows labelled 1 of a file with a label "
                                   "column. A queue or unlabelled texts are refused unless "
                                   "--all-confirmed says every row was confirmed. Writers of a "
                                   "list wait for each other (a lock beside it).")
    add.add_argument("list", metavar="LIST", help="list directory")
    add.add_argument("files", nargs="+", metavar="FILE", help="decisions, queue or texts")
    add.add_argument("--added-by", required=True, metavar="ORG",
                     help="who confirmed these items (organisation or team)")
    add.add_argument("--category", default="", metavar="NAME",
                     help="category for rows that have none (e.g. hasutan)")
    add.add_argument("--text-column", metavar="NAME", help="column holding the post text")
    add.add_argument("--sheet", metavar="NAME", help=SHEET_HELP)
    add.add_argument("--all-confirmed", action="store_true",
                     help="a queue or a file of texts without a label column: a person "
                          "confirmed every row as extremist (recorded in the history)")
    add.set_defaults(run=cmd_known_add)
    removing = known_actions.add_parser("remove", help="take items out of a list",
                                        description=cmd_known_remove.__doc__)
    removing.add_argument("list", metavar="LIST")
    removing.add_argument("ids", nargs="+", metavar="ID", help="item id (k-...)")
    removing.add_argument("--by", required=True, metavar="ORG",
                          help="who removes them (organisation or team)")
    removing.add_argument("--reason", default="", metavar="TEXT", help="why, for the history")
    removing.set_defaults(run=cmd_known_remove)
    merging = known_actions.add_parser("merge", help="merge lists; duplicates by hash")
    merging.add_argument("lists", nargs="+", metavar="LIST")
    merging.add_argument("-o", "--output", required=True, metavar="LIST", help="merged list")
    merging.set_defaults(run=cmd_known_merge)
    show = known_actions.add_parser("show", help="counts by category, organisation, month")
    show.add_argument("list", metavar="LIST")
    show.set_defaults(run=cmd_known_show)
    export = known_actions.add_parser("export", help="copy a list to share")
    export.add_argument("list", metavar="LIST")
    export.add_argument("--hash-only", action="store_true",
                        help="leave the texts out (hashes and signatures only)")
    export.add_argument("-o", "--output", required=True, metavar="LIST", help="exported list")
    export.set_defaults(run=cmd_known_export)
    for sub in (add, removing, merging, show, export):
        sub.add_argument("-q", "--quiet", action="store_true", help="no summary on stderr")
    for sub in (merging, export):
        sub.add_argument("--force", action="store_true", help=FORCE_HELP)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``kanalml`` console script and ``python -m kanalml``."""
    args = build_parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    # Library warnings (e.g. evaluating a model on its own training posts) as one line each.
    warnings.showwarning = lambda message, *_args, **_kw: _warn(str(message))
    if args.command in ("score", "rank", "suggest"):
        args.inputs = _distinct_inputs(args.inputs)
    previous = _on_sigterm()
    try:
        return int(args.run(args))
    except _Terminated:
        print("kanalml: terminated; no output was written", file=sys.stderr)
        return 128 + signal.SIGTERM
    except KanalmlError as exc:  # a problem the user can fix; anything else is a bug
        print(f"kanalml: error: {exc}", file=sys.stderr)
        return 1
    except BrokenProcessPool:
        print("kanalml: error: a --jobs worker process died (killed, or out of memory); no "
              "output was written", file=sys.stderr)
        return 1
    except BrokenPipeError:  # e.g. piped into head
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:  # unreadable input, unwritable output directory, full disk
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"kanalml: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("kanalml: interrupted; no output was written", file=sys.stderr)
        return 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


class _Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, a container or job scheduler stopping the run), raised like Ctrl-C so
    the same clean-up runs: temporary output and spool files are removed."""


def _raise_terminated(signum: int, frame: Any) -> None:
    raise _Terminated


def _on_sigterm() -> Any:
    """Make SIGTERM raise :class:`_Terminated`; the previous handler, or None off the main
    thread (where Python cannot set one)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, _raise_terminated)

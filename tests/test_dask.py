"""The Dask engine on a LocalCluster of two worker processes: the local engine's results."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import EVERYDAY, NEGATIVE_LIKE, POSITIVE_LIKE, RADICAL

import kanalml

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

from kanalml.cli import main  # noqa: E402
from kanalml.dask import rank_dataframe, score_dataframe  # noqa: E402
from kanalml.rank import QueueBuilder  # noqa: E402

BASE = ("Saudaraku, sistem demokrasi adalah sistem kafir. Tegakkan khilafah, "
        "bubarkan pemerintah thaghut sekarang juga!")
FORWARDS = ["FWD: " + BASE, BASE + " 🔥🔥", BASE.upper(), "Fw: " + BASE.replace("juga", "")]


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as c:
        yield c


def posts(n: int = 240, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pools = [RADICAL, EVERYDAY, POSITIVE_LIKE, NEGATIVE_LIKE]
    texts = [f"{rng.choice(pools[i % 4])} {rng.choice(pools[(i + 1) % 4])} #{i}" for i in range(n)]
    return pd.DataFrame({"channel": [f"kanal_{i % 5}" for i in range(n)],
                         "message_id": range(1, n + 1),
                         "date": pd.date_range("2026-11-01", periods=n, freq="h").astype(str),
                         "text": texts})


def test_score_dataframe_equals_score(client) -> None:
    frame = posts().set_index("message_id")
    out = score_dataframe(dd.from_pandas(frame, npartitions=6), "text").compute()
    expected = kanalml.score(frame["text"])
    assert list(out.columns) == [*frame.columns, *expected.columns]
    pd.testing.assert_frame_equal(out[expected.columns], expected)
    pd.testing.assert_frame_equal(out[frame.columns], frame, check_dtype=False)  # dask: string


def test_model_object_is_scattered_and_scores_the_same(client, small_model) -> None:
    frame = posts(60)
    out = score_dataframe(dd.from_pandas(frame, npartitions=4), "text", model=small_model)
    expected = kanalml.score(frame["text"], model=small_model)
    pd.testing.assert_frame_equal(out.compute()[expected.columns], expected)


def test_model_loads_once_per_worker_not_per_partition(client, small_model_dir) -> None:
    frame = posts(120)
    ddf = dd.from_pandas(frame, npartitions=12)
    score_dataframe(ddf, "text", model=small_model_dir).compute()
    path = str(Path(small_model_dir).resolve())

    def model_in_worker() -> int:
        from kanalml.pipeline import cached_model

        return id(cached_model(path))

    def model_per_partition(part: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"model": [model_in_worker()]})

    before = client.run(model_in_worker)
    assert len(before) == 2
    score_dataframe(ddf, "text", model=small_model_dir).compute()
    used = ddf.map_partitions(model_per_partition, meta={"model": "i8"}).compute()
    # every partition, in either run, scored with its worker's one copy of the model
    assert client.run(model_in_worker) == before
    assert set(used["model"]) <= set(before.values())


def test_rank_collapses_duplicates_across_partitions(client) -> None:
    frame = posts(80)
    # a message and its forwarded copies, spread over every partition
    for k, text in enumerate([BASE, *FORWARDS]):
        frame.loc[5 + 16 * k, "text"] = text
    ddf = dd.from_pandas(frame, npartitions=5)
    queue, channels, covered = rank_dataframe(ddf, "text", channel_column="channel",
                                              date_column="date")
    model = kanalml.load_model()
    builder = QueueBuilder(model.labels_)
    scored = kanalml.score(frame["text"], explain=True)
    local = pd.concat([frame, scored], axis=1)
    local["evidence"] = [e if s >= 0.25 else [] for e, s in zip(local["evidence"],
                                                                  local["score"])]
    builder.add(local, text_column="text", channel_column="channel", date_column="date")
    expected, _ = builder.queue()
    pd.testing.assert_frame_equal(queue, expected)
    pd.testing.assert_frame_equal(channels, builder.channels())
    top = queue[queue["text"].str.contains("saudaraku", case=False)]
    assert len(top) == 1 and top["copies"].item() == 5
    assert covered == 1.0


def test_rank_with_a_budget(client) -> None:
    frame = posts(200)
    queue, _, covered = rank_dataframe(dd.from_pandas(frame, npartitions=4), "text", budget=10)
    full, _, _ = rank_dataframe(dd.from_pandas(frame, npartitions=1), "text")
    assert len(queue) == 10
    np.testing.assert_array_equal(queue["score"], full["score"][:10])
    assert 0 < covered < 1


# -- the command line --------------------------------------------------------------------------

def write_inputs(tmp_path: Path, n_files: int = 3) -> list[Path]:
    paths = []
    for i in range(n_files):
        path = tmp_path / f"export_{i}.csv"
        posts(90, seed=i).to_csv(path, index=False)
        paths.append(path)
    return paths


def read_parts(directory: Path) -> pd.DataFrame:
    parts = sorted(directory.glob("part-*.csv"))
    return pd.concat([read_cells(p) for p in parts], ignore_index=True)


def read_cells(path: Path) -> pd.DataFrame:
    """A CSV's cells as written: a part whose evidence cells are all empty (every post below
    the evidence floor) must not read as another dtype than the same cells in one file."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def test_cli_dask_equals_local_engine(client, tmp_path) -> None:
    paths = write_inputs(tmp_path)
    local = tmp_path / "local.csv"
    assert main(["score", *map(str, paths), "-o", str(local), "-q", "--chunk-rows", "40"]) == 0
    out = tmp_path / "out"
    assert main(["score", str(tmp_path / "export_*.csv"), "-o", str(out), "-q", "--engine",
                 "dask", "--scheduler", client.scheduler.address, "--chunk-rows", "40"]) == 0
    assert len(list(out.glob("part-*.csv"))) == 9  # 3 files x 3 chunks
    pd.testing.assert_frame_equal(read_parts(out), read_cells(local))


def test_cli_dask_parquet_and_top(client, tmp_path) -> None:
    paths = write_inputs(tmp_path, 2)
    local = tmp_path / "local.parquet"
    assert main(["score", *map(str, paths), "-o", str(local), "-q", "--top", "7"]) == 0
    out = tmp_path / "out"
    assert main(["score", *map(str, paths), "-o", str(out), "-q", "--engine", "dask",
                 "--scheduler", client.scheduler.address, "--top", "7",
                 "--format", "parquet"]) == 0
    got = pd.read_parquet(out / "part-00000-00000.parquet")
    pd.testing.assert_frame_equal(got.reset_index(drop=True), pd.read_parquet(local))


def test_cli_dask_bad_file_among_good_ones(client, tmp_path, capsys) -> None:
    paths = write_inputs(tmp_path, 2)
    bad = tmp_path / "export_9.csv"
    bad.write_text('channel,message_id,date,text\nkanal,1,2026-11-01,"baik\n'
                   'kanal,2,2026-11-01,"tidak ditutup\n', encoding="utf-8")
    out = tmp_path / "out"
    argv = ["score", *map(str, paths), str(bad), "-o", str(out), "-q", "--engine", "dask",
            "--scheduler", client.scheduler.address]
    assert main([*argv, "--on-bad-lines", "error"]) == 1
    err = capsys.readouterr().err
    assert str(bad) in err and ":2" in err and "Traceback" not in err
    assert not out.exists() and not list(tmp_path.glob(".out.*"))
    # default: the bad rows are listed, the good ones scored
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert (tmp_path / "out.rejects.csv").is_file() and "malformed" in err
    assert len(read_parts(out)) == 180


def test_cli_dask_starts_and_closes_a_local_cluster(tmp_path, capsys) -> None:
    paths = write_inputs(tmp_path, 2)
    out = tmp_path / "out"
    assert main(["score", *map(str, paths), "-o", str(out), "--engine", "dask",
                 "--workers", "2"]) == 0
    assert "scored 180 rows from 2 file(s) on Dask" in capsys.readouterr().err
    assert len(read_parts(out)) == 180


def test_cli_dask_usage_errors(tmp_path, capsys) -> None:
    paths = write_inputs(tmp_path, 1)
    assert main(["score", str(paths[0]), "--engine", "dask"]) == 2
    assert "give -o OUT_DIR" in capsys.readouterr().err
    assert main(["score", str(tmp_path / "nothing_*.csv"), "-o", str(tmp_path / "o"),
                 "--engine", "dask"]) == 1
    assert "no files match" in capsys.readouterr().err


def test_score_dataframe_keeps_an_input_score_column(small_model) -> None:
    ddf = dd.from_pandas(pd.DataFrame({"text": ["tegakkan khilafah", "cuaca cerah"],
                                       "score": [5, 6]}), npartitions=1)
    out = score_dataframe(ddf, "text", model=small_model).compute()
    assert out["score_input"].tolist() == [5, 6]
    assert out["score"].between(0, 1).all()


def test_known_list_on_dask_matches_like_local(client, tmp_path) -> None:
    from kanalml.known import KnownList

    listing = KnownList()
    listing.add([BASE], added_by="org-a")
    listing.save(tmp_path / "known")
    frame = posts(60)
    frame.loc[[3, 17, 41, 58], "text"] = FORWARDS
    ddf = dd.from_pandas(frame, npartitions=4)
    out = score_dataframe(ddf, "text", known=tmp_path / "known").compute()
    local = kanalml.score(frame["text"], known=tmp_path / "known")
    assert out["known_id"].tolist() == local["known_id"].tolist()
    assert out.loc[[3, 17, 41, 58], "known_id"].tolist() == [listing.items[0]["id"]] * 4
    queue, channels, _ = rank_dataframe(ddf, "text", known=tmp_path / "known",
                                        channel_column="channel")
    assert queue["known_id"].iloc[0] == listing.items[0]["id"] and queue["copies"].iloc[0] == 4
    assert queue["known_id"].iloc[1:].isna().all()
    assert channels["known_posts"].sum() == 4


def test_cli_dask_known_equals_local_engine(client, tmp_path) -> None:
    from kanalml.known import KnownList

    listing = KnownList()
    listing.add([BASE], added_by="org-a")
    listing.save(tmp_path / "known")
    frame = posts(80)
    frame.loc[[5, 60], "text"] = FORWARDS[:2]
    frame.to_csv(tmp_path / "in.csv", index=False)
    assert main(["score", str(tmp_path / "in.csv"), "-o", str(tmp_path / "local.csv"), "-q",
                 "--known", str(tmp_path / "known")]) == 0
    assert main(["score", str(tmp_path / "in.csv"), "-o", str(tmp_path / "out"), "-q",
                 "--engine", "dask", "--scheduler", client.scheduler.address,
                 "--chunk-rows", "30", "--known", str(tmp_path / "known")]) == 0
    local = pd.read_csv(tmp_path / "local.csv")
    remote = pd.concat(pd.read_csv(p) for p in sorted((tmp_path / "out").iterdir()))
    # a part with no match reads back as object, not str: compare the values
    pd.testing.assert_frame_equal(remote.reset_index(drop=True), local, check_dtype=False)
    assert local["known_id"].notna().sum() == 2


def test_rank_on_dask_warns_of_long_posts_it_cut(client) -> None:
    long = "bubarkan pemerintah thaghut " * 5_000  # 140,000 characters
    frame = pd.DataFrame({"text": [long, *POSITIVE_LIKE, *NEGATIVE_LIKE]})
    with pytest.warns(UserWarning, match=r"1 post\(s\) longer than 100,000 characters"):
        ranked = rank_dataframe(dd.from_pandas(frame, npartitions=3), "text")
    assert len(ranked.queue) == len(frame)


def test_score_dataframe_warns_of_long_posts_when_computed(client) -> None:
    long = "bubarkan pemerintah thaghut " * 5_000  # 140,000 characters
    frame = pd.DataFrame({"text": [*POSITIVE_LIKE, long, *NEGATIVE_LIKE, long]})
    ddf = dd.from_pandas(frame, npartitions=2)
    at = list(frame.index[frame["text"] == long])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # building the lazy frame reads no text
        scored = score_dataframe(ddf, "text")
    expected = [f"partition {n}: 1 post(s) longer than 100,000 characters (the first at index "
                f"{i}) were scored on their first 100,000; the frame keeps the whole text"
                for n, i in enumerate(at)]
    # from the workers, forwarded by distributed; then with no cluster, the same
    for scheduler in (None, "sync"):
        with pytest.warns(UserWarning) as caught:
            out = scored.compute(scheduler=scheduler)
        assert sorted(str(w.message) for w in caught) == expected
    assert (out["text"] == long).sum() == 2  # the frame keeps the whole text

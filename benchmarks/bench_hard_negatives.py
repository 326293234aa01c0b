"""False positives on hard negatives and ranking of the demo export, with the default model.

    python benchmarks/bench_hard_negatives.py

- data/hard_negatives.csv (100 non-extremist posts that use extremism vocabulary: news,
  counter-extremism, religious speech): share flagged at the model's threshold, overall
  and per kind (target: at most 1 in 20), the score distribution (median, p90, max) and
  the flagged rows with the words that drove them;
- data/demo_export.csv (60 posts, 8 radical slogans; categories from data/DATA_CARD.md):
  where the radical posts rank, how many are in the top 8, and what else ranks high.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
MODEL_DIR = ROOT / "models" / "ekstremisme-v3"
TARGET_SHARE = 1 / 20


def categories(card: Path) -> dict[tuple[str, int], str]:
    """(channel, message_id) -> category, from the card's ``- `category`: ch/id, ...`` lines."""
    found = {}
    for match in re.finditer(r"^- `(\w+)`: (.+)$", card.read_text(encoding="utf-8"), re.M):
        for item in match.group(2).split(","):
            channel, _, message_id = item.strip().partition("/")
            if message_id.isdigit():
                found[(channel, int(message_id))] = match.group(1)
    return found


def excerpt(text: str, width: int = 90) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[:width - 3] + "..."


def main() -> int:
    import numpy as np
    import pandas as pd
    from sklearn.metrics import average_precision_score

    import kanalml

    model = kanalml.load_model()
    threshold = model.threshold
    print(f"default model {MODEL_DIR.name} (created {model.metadata_.get('created')}), primary "
          f"label {model.primary}, threshold on score: {threshold:.4f} "
          f"({model.metadata_.get('threshold_rule', '')})")

    # -- hard negatives ----------------------------------------------------------------------
    hard = pd.read_csv(DATA / "hard_negatives.csv")
    scored = kanalml.score(hard["text"], explain=True)
    hard = hard.join(scored[["score", "flagged", "evidence"]])
    print()
    print(f"hard negatives ({len(hard)} rows): flagged at score >= {threshold:.4f}; "
          f"target at most 1 in 20 ({TARGET_SHARE:.0%})")
    print(f"{'kind':20} {'rows':>5} {'flagged':>8} {'share':>7} {'median':>8} {'p90':>8} "
          f"{'max':>8}  target")
    groups = [("all", hard), *hard.groupby("kind", sort=True)]
    for kind, part in groups:
        share = part["flagged"].mean()
        print(f"{kind:20} {len(part):>5} {int(part['flagged'].sum()):>8} {share:>7.1%} "
              f"{part['score'].median():>8.4f} {np.percentile(part['score'], 90):>8.4f} "
              f"{part['score'].max():>8.4f}  {'MET' if share <= TARGET_SHARE else 'NOT MET'}")
    flagged = hard[hard["flagged"]].sort_values("score", ascending=False)
    if len(flagged):
        print("flagged rows (evidence: words as written, log-odds weight):")
        for row in flagged.itertuples():
            words = ", ".join(f"{w} {v:.2f}" for w, v in row.evidence[:4])
            print(f"  {row.id} {row.kind:18} {row.score:.3f}  {excerpt(row.text, 70)}")
            print(f"      evidence: {words}")
    near = hard[~hard["flagged"]].nlargest(3, "score")
    print("highest-scoring rows not flagged:")
    for row in near.itertuples():
        print(f"  {row.id} {row.kind:18} {row.score:.3f}  {excerpt(row.text, 70)}")

    # -- demo export ranking -------------------------------------------------------------------
    demo = pd.read_csv(DATA / "demo_export.csv")
    cats = categories(DATA / "DATA_CARD.md")
    demo["category"] = [cats.get((c, int(m)), "?") for c, m in zip(demo["channel"],
                                                                    demo["message_id"])]
    demo = demo.join(kanalml.score(demo["text"])[["score", "flagged"]])
    demo = demo.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)
    demo["rank"] = np.arange(1, len(demo) + 1)
    radical = demo["category"] == "radical"
    n_radical = int(radical.sum())
    print()
    print(f"demo export ({len(demo)} posts, {n_radical} radical per DATA_CARD.md, "
          f"{int((demo['category'] == '?').sum())} without a category):")
    top = demo.head(n_radical)
    print(f"  radical posts in the top {n_radical}: {int((top['category'] == 'radical').sum())} "
          f"of {n_radical}")
    print(f"  ranks of the radical posts: {demo.loc[radical, 'rank'].tolist()}")
    print(f"  radical posts flagged: {int(demo.loc[radical, 'flagged'].sum())} of {n_radical}; "
          f"other posts flagged: {int(demo.loc[~radical, 'flagged'].sum())} of "
          f"{int((~radical).sum())}")
    print(f"  average precision of the ranking for radical: "
          f"{average_precision_score(radical, demo['score']):.4f}")
    print("  by category: posts, flagged, median score, best rank")
    for category, part in demo.groupby("category", sort=True):
        print(f"    {category:18} {len(part):>3} {int(part['flagged'].sum()):>4} "
              f"{part['score'].median():>8.4f} {int(part['rank'].min()):>5}")
    print(f"  top {n_radical + 4} of the ranking:")
    for row in demo.head(n_radical + 4).itertuples():
        mark = "*" if row.flagged else " "
        print(f"   {row.rank:>2} {row.score:.3f}{mark} {row.category:17} "
              f"{row.channel}/{row.message_id}  {excerpt(row.text, 60)}")
    print("  (* = flagged)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

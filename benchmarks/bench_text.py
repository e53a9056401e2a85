"""Text benchmark: segmentation + classification throughput at 1 M call texts, plus extraction and masking.

Texts are realistic 110 call texts (简要案情) from the demo generator (``anju.demo``), as many distinct months as
needed, then repeated up to ``--n`` texts (default 1,000,000; ``--quick``: 100,000). A call-category model
(59 leaves) is trained on 30,000 of them (a sample distinct from the measured texts' first rows is not needed: the
figure is throughput, not accuracy). Measured, wall clock and CPU:

* normalise + segment (``Segmenter.cut_many``, stop words removed);
* the full classification pipeline (``TextClassifier.classify``: normalise → segment → word + char TF-IDF →
  calibrated NB-SVM → review decision), with 1 process and with ``--jobs`` processes (default 2);
* ``amounts_yuan`` and ``mask_pii`` over the same texts.

Usage: ``python benchmarks/bench_text.py [--quick] [--n N] [--jobs J]``
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time

import numpy as np


def _peak_rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return max(own, kids)


def _demo_texts(n_unique: int) -> tuple[list[str], list[str]]:
    from anju.demo import model as M
    from anju.demo.calls import generate_month, repeat_callers, to_columns
    from anju.demo.geography import district_for
    from anju.taxonomy import load_taxonomy

    tax = load_taxonomy()
    d = district_for(42)
    plan = M.build_plan(d, end_year=2025, years=3)
    callers = repeat_callers(d, 42)
    texts: list[str] = []
    labels: list[str] = []
    leaves = np.array(plan.leaves, dtype=object)
    for mi in range(len(plan.months)):
        ch = generate_month(d, plan, mi, seed=42, scale=1.0)
        cols = to_columns(ch, d, plan, tax, seed=42, callers=callers)
        texts += [str(t) for t in cols.data["简要案情"].tolist()]
        labels += leaves[ch.leaf].tolist()
        if len(texts) >= n_unique:
            break
    return texts, labels


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _timed(label: str, n: int, fn):  # type: ignore[no-untyped-def]
    """Run ``fn`` and print wall-clock and CPU (this process + finished workers) throughput."""
    t0, c0 = time.perf_counter(), _cpu()
    out = fn()
    wall, cpu = time.perf_counter() - t0, _cpu() - c0
    print(f"{label:<42s} {n:>9,d} texts  wall {wall:6.2f} s = {n / wall:>9,.0f}/s   CPU {cpu:6.2f} s = "
          f"{n / cpu:>9,.0f}/s per CPU-second", flush=True)
    return out, n / wall


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="100,000 texts")
    ap.add_argument("--n", type=int, default=None)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--train", type=int, default=30_000)
    args = ap.parse_args(argv)
    n = args.n or (100_000 if args.quick else 1_000_000)
    print(f"machine: {platform.platform()}, python {platform.python_version()}, cpus {os.cpu_count()}, "
          f"load {os.getloadavg()[0]:.1f}")

    from anju.text.classify import TextClassifier
    from anju.text.extract import amounts_yuan
    from anju.text.mask import mask_pii
    from anju.text.segment import Segmenter

    t0 = time.perf_counter()
    uniq, labels = _demo_texts(min(n, 400_000))
    reps = -(-n // len(uniq))
    texts = (uniq * reps)[:n]
    print(f"demo texts: {len(uniq):,} distinct (mean {np.mean([len(t) for t in uniq]):.1f} chars), "
          f"repeated to {n:,} in {time.perf_counter() - t0:.1f} s", flush=True)

    t0 = time.perf_counter()
    rng = np.random.default_rng(0)
    idx = rng.choice(len(uniq), size=min(args.train, len(uniq)), replace=False)
    clf = TextClassifier(threshold=0.6).fit([uniq[i] for i in idx], [labels[i] for i in idx])
    slow = clf.not_converged_
    print(f"train category model on {len(idx):,} texts ({len(clf.classes_)} labels, "
          f"{clf.features_.n_features_:,} features): {time.perf_counter() - t0:.1f} s wall "
          f"({slow} liblinear fits hit max_iter: the generator's templates are separable)", flush=True)

    seg = Segmenter()
    _timed("normalise + segment (Segmenter.cut_many)", n, lambda: seg.cut_many(texts))
    res, rate1 = _timed("segment + classify, 1 process", n, lambda: clf.classify(texts))
    res_j, rate_j = _timed(f"segment + classify, {args.jobs} processes", n,
                           lambda: clf.classify(texts, n_jobs=args.jobs))
    same = bool((res["label"].to_numpy() == res_j["label"].to_numpy()).all())
    truth = np.array((labels * reps)[:n], dtype=object)
    print(f"   parallel result identical to serial: {same}; needs review {res['needs_review'].mean():.2%}; "
          f"agreement with the generator's leaf {np.mean(res['label'].to_numpy() == truth):.2%}")
    _timed("amounts_yuan", n, lambda: amounts_yuan(texts))
    _timed("mask_pii", n, lambda: mask_pii(texts))
    print(f"peak RSS {_peak_rss_mb():,.0f} MB")
    goal = 50_000
    best = max(rate1, rate_j)
    print(f"goal ≥ {goal:,}/s segmentation + classification (wall clock): {'met' if best >= goal else 'MISSED'} "
          f"({best:,.0f}/s; load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

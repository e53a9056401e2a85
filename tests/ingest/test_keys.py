"""KeyIndex: duplicates within a batch, across batches and against the lake, checked against a plain Python set."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from anju.ingest.keys import KeyIndex


def _reference(batches: list[tuple[list[str], np.ndarray]], seen: set[str]) -> list[np.ndarray]:
    out = []
    for keys, cand in batches:
        dup = np.zeros(len(keys), dtype=bool)
        for i, (k, c) in enumerate(zip(keys, cand, strict=True)):
            if not c:
                continue
            if k in seen:
                dup[i] = True
            else:
                seen.add(k)
        out.append(dup)
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_claim_matches_a_python_set(seed: int) -> None:
    rng = np.random.default_rng(seed)
    batches = []
    for _ in range(6):
        n = int(rng.integers(1, 3000))
        keys = [f"cn110:J{int(v)}" for v in rng.integers(0, 5000, n)]  # many repeats within and across batches
        batches.append((keys, rng.random(n) < 0.9))
    want = _reference(batches, set())
    idx = KeyIndex()
    try:
        got = [idx.claim(pa.array(k), c) for k, c in batches]
    finally:
        idx.close()
    for g, w in zip(got, want, strict=True):
        assert g.tolist() == w.tolist()
    assert idx.size == len({k for ks, c in batches for k, ci in zip(ks, c, strict=True) if ci})


def test_first_hash_collisions_are_told_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    # force every key onto the same first hash: only the second one separates them
    real = KeyIndex._fingerprints

    def colliding(self: KeyIndex, keys: pa.Array) -> tuple[np.ndarray, np.ndarray]:
        h1, h2 = real(self, keys)
        return np.full_like(h1, 42), h2

    monkeypatch.setattr(KeyIndex, "_fingerprints", colliding)
    batches = [(["a", "b", "a", "c"], np.ones(4, bool)), (["c", "d", "b", "e", "e"], np.ones(5, bool))]
    want = _reference(batches, set())
    idx = KeyIndex()
    got = [idx.claim(pa.array(k), c) for k, c in batches]
    idx.close()
    assert [g.tolist() for g in got] == [w.tolist() for w in want]
    assert want[0].tolist() == [False, False, True, False]  # the later row of a repeated key is the duplicate


def test_keys_from_the_lake_are_taken(tmp_path: Path) -> None:
    f = tmp_path / "part.parquet"
    pq.write_table(pa.table({"record_key": ["cn110:1", "cn110:2", "other:3"],
                             "source": ["cn110", "cn110", "other"]}), f)
    idx = KeyIndex.from_lake([f], "cn110")
    dup = idx.claim(pa.array(["cn110:2", "cn110:3", "other:3"]), np.ones(3, bool))
    idx.close()
    assert idx.size == 4 and dup.tolist() == [True, False, False]


@pytest.mark.parametrize("narrow", [False, True])
def test_many_batches_merge_runs_and_match_a_python_set(narrow: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    # 40 batches: the size-tiered runs merge several times; with ``narrow`` every first hash shares its top bits,
    # so every key passes the bit filter (all false positives) and the exact look-up in the runs decides
    if narrow:
        real = KeyIndex._fingerprints

        def narrowed(self: KeyIndex, keys: pa.Array) -> tuple[np.ndarray, np.ndarray]:
            h1, h2 = real(self, keys)
            return h1 & np.uint64(0xFFFF), h2

        monkeypatch.setattr(KeyIndex, "_fingerprints", narrowed)
    rng = np.random.default_rng(7)
    batches = []
    for i in range(40):
        n = int(rng.integers(200, 800))
        fresh = [f"cn110:{i}-{j}" for j in range(n)]
        old = [f"cn110:{int(a)}-{int(b)}" for a, b in zip(rng.integers(0, i + 1, 20), rng.integers(0, 800, 20),
                                                          strict=True)]
        keys = fresh + old
        batches.append((keys, rng.random(len(keys)) < 0.95))
    want = _reference(batches, set())
    idx = KeyIndex()
    try:
        got = [idx.claim(pa.array(k), c) for k, c in batches]
        runs = list(idx._runs)
    finally:
        idx.close()
    assert [g.tolist() for g in got] == [w.tolist() for w in want]
    assert sum(int(w.sum()) for w in want) > 100  # repeats across batches were found
    assert idx.size == sum(r[0].size for r in runs) and len(runs) < 12  # merged, nothing lost
    for r1, _ in runs:
        assert np.all(r1[1:] >= r1[:-1])
        assert idx._maybe(r1).all()  # the filter has a bit for every key in the runs

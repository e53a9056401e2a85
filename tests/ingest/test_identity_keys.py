"""Keys for sources without an id: identifying fields + occurrence number, on a slice of the real SF Kaggle file.

The two failure cases of a key hashed from the whole row (docs/ingest.md, "Keys for sources without an id"):

1. a re-export of the same calls — columns reordered, coordinates rounded, a trailing space, an updated status
   column, rows in another order — was loaded again in full;
2. genuine repeat calls (same type, time and block) were quarantined as duplicates.

Both are shown failing with the old row hash (``key.hash = true``) and passing with the shipped ``sf-kaggle``
profile, which keys a row by its time, category, description and block.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from anju.config import Settings
from anju.errors import ProfileError
from anju.ingest import check_file, ingest_file
from anju.ingest.keys import Occurrences, identity_keys, normalize_key_text, round_coords
from anju.ingest.pii import Hasher
from anju.ingest.profile import load_profile
from anju.lake import connect

ROWS = 6_000
IDENTIFYING = ["Dates", "Category", "Descript", "Address"]


@pytest.fixture(scope="module")
def sf_slice(shared_data: Path) -> pd.DataFrame:
    """The first rows of the real SF Kaggle train file, read from the shared data (never copied into the repo)."""
    df = pd.read_csv(shared_data / "sf-crime-kaggle" / "train.csv.gz", dtype=str, keep_default_na=False,
                     nrows=ROWS)
    return df[df["Y"].astype(float) < 90].reset_index(drop=True)  # drop the dummy-coordinate rows


def re_export(df: pd.DataFrame) -> pd.DataFrame:
    """The same calls exported again: other column order, rows shuffled, X/Y rounded to 5 decimals, a trailing
    space and other case in the block, full-width digits in one, and every status (Resolution) updated."""
    r = df.sample(frac=1.0, random_state=7).copy()
    r["X"] = r["X"].astype(float).round(5).astype(str)
    r["Y"] = r["Y"].astype(float).round(5).astype(str)
    r["Address"] = r["Address"].str.title() + " "
    r.loc[r.index[:50], "Address"] = r.loc[r.index[:50], "Address"].str.translate(
        str.maketrans("0123456789", "０１２３４５６７８９"))
    r["Resolution"] = "ARREST, BOOKED"
    return r[list(reversed(df.columns))]


def lake_count(settings: Settings) -> int:
    with connect(settings) as lake:
        return int(lake.incidents().count().execute())


def row_hash_profile(tmp_path: Path) -> Path:
    """The sf-kaggle profile keyed the old way: a hash of every column of the row."""
    text = load_profile("sf-kaggle").path.read_text(encoding="utf-8")
    head, _, _ = text.partition("[key]")
    p = tmp_path / "sf-rowhash.toml"
    p.write_text(head.replace('name = "sf-kaggle"', 'name = "sf-rowhash"\nsource = "sf-kaggle"')
                 + "[key]\nhash = true\n", encoding="utf-8")
    return p


def test_repeat_calls_load_and_a_re_export_changes_nothing(settings: Settings, sf_slice: pd.DataFrame,
                                                           tmp_path: Path) -> None:
    first = tmp_path / "sf.csv"
    sf_slice.to_csv(first, index=False)
    repeats = int(sf_slice.duplicated(IDENTIFYING).sum())
    assert repeats > 0  # the slice holds genuine repeats: same time, category, description and block

    rep = ingest_file(settings, first, profile="sf-kaggle")
    assert rep.quarantine_by_reason == {}
    assert rep.rows_loaded == len(sf_slice)  # every repeat call loads, none is a "duplicate"
    with connect(settings) as lake:
        keys = lake.incidents().select("record_key").execute()["record_key"]
    assert keys.is_unique
    assert keys.str.fullmatch(r"sf-kaggle:[0-9a-f]{32}-\d+").all()
    assert int((~keys.str.endswith("-1")).sum()) == repeats  # the repeats carry occurrence 2, 3, …

    second = tmp_path / "sf-reexport.csv"
    re_export(sf_slice).to_csv(second, index=False)
    dry = check_file(settings, second, profile="sf-kaggle", rows=500)  # the dry run uses the lake's key too
    assert dry.would_load == 0 and dry.reasons == {"duplicate_key": 500}
    rep2 = ingest_file(settings, second, profile="sf-kaggle")
    assert rep2.rows_loaded == 0
    assert rep2.quarantine_by_reason == {"duplicate_key": len(sf_slice)}
    assert lake_count(settings) == len(sf_slice)


def test_the_row_hash_fails_both_cases(settings: Settings, sf_slice: pd.DataFrame, tmp_path: Path) -> None:
    """The old key (a hash of the whole row): the re-export loads again in full, exact repeats are lost."""
    first = tmp_path / "sf.csv"
    sf_slice.to_csv(first, index=False)
    prof = row_hash_profile(tmp_path)
    exact = int(sf_slice.duplicated().sum())
    rep = ingest_file(settings, first, profile=str(prof))
    assert rep.quarantine_by_reason.get("duplicate_key", 0) == exact > 0
    second = tmp_path / "sf-reexport.csv"
    re_export(sf_slice).to_csv(second, index=False)
    rep2 = ingest_file(settings, second, profile=str(prof))
    assert rep2.rows_loaded > 0.99 * len(sf_slice)  # loaded again
    assert lake_count(settings) > 1.99 * len(sf_slice) - exact


def test_occurrences_count_across_batches_in_file_order() -> None:
    rng = np.random.default_rng(3)
    values = rng.integers(0, 300, 5_000).astype(np.uint64)
    occ = Occurrences()
    got = np.concatenate([occ.number(values[i:i + 700]) for i in range(0, values.size, 700)])
    seen: dict[int, int] = {}
    want = []
    for v in values.tolist():
        seen[v] = seen.get(v, 0) + 1
        want.append(seen[v])
    assert got.tolist() == want


def test_identity_keys_normalise_and_are_keyed() -> None:
    h1, h2 = Hasher(b"k" * 32), Hasher(b"other-key-0123456789abcdef")
    a = [normalize_key_text(pa.array(["Mission St ", "MISSION  ST"]), casefold=True),
         round_coords(pa.array(["-122.40849300000001", "-122.4085"]), 4)]
    k = identity_keys("s", a, h1, Occurrences()).to_pylist()
    assert k[0].rsplit("-", 1)[0] == k[1].rsplit("-", 1)[0]  # same call after normalisation
    assert [x.rsplit("-", 1)[1] for x in k] == ["1", "2"]  # its second occurrence
    other = identity_keys("s", a, h2, Occurrences()).to_pylist()
    assert other[0] != k[0]  # the key depends on the deployment secret: no guessing a value from its key
    # nulls are marked, so (a, null) and (null, a) differ
    x = identity_keys("s", [pa.array(["a", None]), pa.array([None, "a"])], h1, Occurrences()).to_pylist()
    assert x[0] != x[1]


@pytest.mark.parametrize("key,needle", [
    ('fields = ["time", "colour"]', "unknown field 'colour'"),
    ('fields = ["time", "address"]', "does not map"),
    ('fields = ["time"]\nhash = true', "not both"),
    ('fields = ["time"]\ncasefold = ["category"]', "not in `fields`"),
])
def test_bad_key_sections_are_explained(tmp_path: Path, key: str, needle: str) -> None:
    p = tmp_path / "k.toml"
    p.write_text(f'[profile]\nname = "k"\n[columns]\ntime = "t"\ncategory = "c"\n[key]\n{key}\n', encoding="utf-8")
    with pytest.raises(ProfileError) as e:
        load_profile(p)
    assert needle in str(e.value)

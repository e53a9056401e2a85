"""The Spark engine: the same lake, the same API, the same numbers as DuckDB (issue: scale-out on Spark).

One local[2] Spark session serves the whole file (a JVM start costs ~10 s); every test compares Spark against the
DuckDB lake on the same data directory. The release parity test is the acceptance test: every table of the release
built on Spark equals the DuckDB one — integers and strings exactly, floats within 1e-9.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

pytest.importorskip("pyspark", reason="the spark extra is not installed (make setup installs it)")
if shutil.which("java") is None:  # pragma: no cover - make setup installs openjdk-17-jre-headless
    pytest.skip("no Java runtime (apt install openjdk-17-jre-headless)", allow_module_level=True)

from anju.config import Settings, load_settings
from anju.deployment import load_deployment
from anju.lake.engine import hash_prefix, hash_threshold, open_lake
from anju.lake.schema import INCIDENT_SCHEMA, QUARANTINE_SCHEMA

pytestmark = pytest.mark.slow


def _settings(base: Settings, engine: str) -> Settings:
    return load_settings(data_dir=base.data_dir, engine=engine, quiet=True)


def assert_frames_match(a: pd.DataFrame, b: pd.DataFrame, what: str) -> None:
    """Same columns, rows and order; integers/strings/dates equal, floats within 1e-9 (NaN matches NaN)."""
    assert list(a.columns) == list(b.columns), what
    assert len(a) == len(b), f"{what}: {len(a)} rows on DuckDB, {len(b)} on Spark"
    for c in a.columns:
        x, y = a[c], b[c]
        if pd.api.types.is_float_dtype(x) or pd.api.types.is_float_dtype(y):
            xf = pd.to_numeric(x, errors="coerce").to_numpy(float)
            yf = pd.to_numeric(y, errors="coerce").to_numpy(float)
            assert np.allclose(xf, yf, rtol=0, atol=1e-9, equal_nan=True), f"{what}.{c}: {x.tolist()[:5]} vs " \
                                                                           f"{y.tolist()[:5]}"
        else:
            xs = [None if v is None or (not isinstance(v, (list, dict, tuple, np.ndarray)) and pd.isna(v)) else v
                  for v in x.astype(object)]
            ys = [None if v is None or (not isinstance(v, (list, dict, tuple, np.ndarray)) and pd.isna(v)) else v
                  for v in y.astype(object)]
            assert xs == ys, f"{what}.{c} differs: {[p for p in zip(xs, ys, strict=True) if p[0] != p[1]][:3]}"


def test_spark_lake_reads_the_manifest_files_with_the_lake_schema(spark: Any, demo: Any, tmp_path: Path) -> None:
    # a copy of the demo lake with an orphan file (a killed import) that the manifest does not list
    root = tmp_path / "d"
    shutil.copytree(demo.data_dir / "lake", root / "lake")
    shutil.copytree(demo.data_dir / "areas", root / "areas")
    part = next((root / "lake" / "incidents").rglob("*.parquet"))
    pq.write_table(pq.read_table(part), part.parent / "part-20990101T000000Z-dead00-0.parquet")
    base = load_settings(data_dir=root, quiet=True)
    with open_lake(_settings(base, "duckdb")) as duck, open_lake(_settings(base, "spark")) as sp:
        assert type(sp).__name__ == "SparkLake" and sp.engine == "spark" and duck.engine == "duckdb"
        # the same columns and types (Ibis reads no timestamp scale from Spark: compare without it)
        def types(t: Any) -> list[tuple[str, str]]:
            return [(n, str(ty).replace("(6)", "").replace(", 6", "")) for n, ty in t.schema().items()]

        assert types(sp.incidents()) == types(duck.incidents())
        assert list(sp.incidents().schema().names) == INCIDENT_SCHEMA.names
        assert list(sp.quarantine().schema().names) == QUARANTINE_SCHEMA.names
        n = duck.incidents().count().execute()
        assert n > 1000 and sp.incidents().count().execute() == n  # the orphan is invisible to both
        assert sp.quarantine().count().execute() == duck.quarantine().count().execute()
        assert sp.imports() == duck.imports()
        cols = ["record_key", "reported_at", "reported_at_utc", "year", "month", "caller_hash", "lon", "h3_9"]
        a = duck.incidents().select(*cols).order_by("record_key").limit(500).to_pandas()
        b = sp.incidents().select(*cols).order_by("record_key").limit(500).to_pandas()
        # naive wall-clock times are not shifted by the session time zone; partition columns typed int32
        assert_frames_match(a, b, "incidents")
        assert sp.areas("community").count().execute() == duck.areas("community").count().execute()
        assert "geometry" not in sp.areas("community").columns


def test_empty_lake_on_spark(spark: Any, data_dir: Path) -> None:
    with open_lake(load_settings(data_dir=data_dir, engine="spark", quiet=True)) as lake:
        assert lake.incidents().count().execute() == 0
        assert list(lake.incidents().schema().names) == INCIDENT_SCHEMA.names


def test_hash_sampling_is_the_same_on_both_engines(spark: Any, demo: Any) -> None:
    """DuckDB's hash() and Spark's Murmur3 hash() disagree; the MD5 prefix keeps the same rows on both."""
    out = {}
    for engine in ("duckdb", "spark"):
        with open_lake(_settings(demo.settings, engine)) as lake:
            t = lake.incidents()
            t = t.filter(hash_prefix(t.record_key.concat("#7")) < hash_threshold(0.05))
            out[engine] = sorted(t.record_key.to_pandas().tolist())
    n = len(out["duckdb"])
    assert out["duckdb"] == out["spark"]
    with open_lake(demo.settings) as lake:
        total = lake.incidents().count().execute()
    assert 0.04 * total < n < 0.06 * total


def test_text_audit_regexes_agree(spark: Any, demo: Any, tmp_path: Path) -> None:
    """The audit's cue and negation regexes (RE2 on DuckDB, java.util.regex on Spark) flag the same records.

    Small hand-made texts (a cue, a negated cue, a cue beyond the negation window, punctuation breaks, no text);
    the demo's own texts are compared by the release parity test below.
    """
    import ibis

    from anju.text.audit import flag_downgrades

    dep = load_deployment(demo.settings)
    texts = ["双方争吵，报警人称被打伤", "未被打伤，双方争吵", "双方争吵后对方持刀威胁", "没有人受伤。后来被打伤了",
             "手机遗失", "家中被盗，门锁被撬", "", None, "称被骗转账5000元", "未被骗，只是咨询"]
    n = len(texts)
    df = pd.DataFrame({"record_key": [f"k{i}" for i in range(n)], "station_id": ["S1", None] * (n // 2),
                       "reported_at": pd.date_range("2025-03-01 08:00", periods=n, freq="7h"),
                       "category": ["dispute.other", "dispute.other", "dispute.other", "dispute.other",
                                    "help.lost_property", "help.lost_property", "dispute.other", "dispute.other",
                                    "help.lost_property", "help.lost_property"],
                       "family": ["dispute"] * 4 + ["help"] * 2 + ["dispute"] * 2 + ["help"] * 2, "text": texts})
    expr = flag_downgrades(ibis.memtable(df), rules=dep.audit_rules, only_flagged=False)
    duck = expr.to_pandas()
    with open_lake(_settings(demo.settings, "spark")) as lake:
        sp = lake.con.execute(expr)
    assert duck["flagged"].sum() >= 2 and duck["indicated"].notna().sum() >= 3
    # the same rows in the same order (Ibis orders nulls last on both engines)
    assert_frames_match(duck, sp, "flag_downgrades")
    # only the flagged records, over every coded category: Spark pushes the filter on ``flagged`` below the
    # projection that defines it, so ``flagged`` must hold each rule's regex once (it held ~25,000 copies through
    # the rule lookups: generated code over 64 KB, interpreted for a minute)
    tax = dep.taxonomy
    rows = [(f"k{i}-{c}", t, c, tax.family_of(c)) for c in tax.categories for i, t in enumerate(texts)]
    cross = pd.DataFrame({"record_key": [r[0] for r in rows], "station_id": "S1",
                          "reported_at": pd.Timestamp("2025-03-01 08:00"), "category": [r[2] for r in rows],
                          "family": [r[3] for r in rows], "text": [r[1] for r in rows]})
    path = tmp_path / "cross.parquet"  # a file scan: Spark folds a query over an in-memory table into constants
    cross.to_parquet(path)
    duck = flag_downgrades(ibis.duckdb.connect().read_parquet(path), rules=dep.audit_rules).to_pandas()
    with open_lake(_settings(demo.settings, "spark")) as lake:
        expr = flag_downgrades(lake.con.read_parquet(str(path)), rules=dep.audit_rules)
        plan = lake.spark.sql(lake.con.compile(expr))._jdf.queryExecution().executedPlan().toString()
        sp = lake.con.execute(expr)
    assert plan.count("RLIKE") + plan.count("regexp") < 10 * len(dep.audit_rules.rules)
    assert 20 < len(duck) < len(cross) // 2
    assert_frames_match(duck, sp, "flag_downgrades(only_flagged=True)")


def test_release_on_spark_equals_release_on_duckdb(spark: Any, demo: Any) -> None:
    """The acceptance test: the whole release model, table by table."""
    from anju.services.release import release_model

    rel = {}
    for engine in ("duckdb", "spark"):
        s = _settings(demo.settings, engine)
        dep = load_deployment(s)
        with open_lake(s) as lake:
            rel[engine] = release_model(dep, lake, "latest")
    a, b = rel["duckdb"], rel["spark"]
    assert sorted(a.tables) == sorted(b.tables) and len(a.tables) > 20
    for key, table in a.tables.items():
        assert_frames_match(table.data, b.tables[key].data, key)
    assert a.meta.incidents == b.meta.incidents > 0
    assert [n for n in a.notes] == [n for n in b.notes]


def test_heat_map_cells_are_the_same_on_both_engines(spark: Any, demo: Any, tmp_path: Path) -> None:
    """The heat map's GROUP BY over cell indices puts every point in the same cell on Spark as on DuckDB, including
    points exactly on cell edges, on the grid's max edge and just outside (the release test covers the demo)."""
    import ibis

    from anju.spatial.kde import heat_map, heat_maps

    rng = np.random.default_rng(5)
    gx, gy = np.meshgrid(np.arange(-1000.0, 2001.0, 100.0), np.arange(-500.0, 1501.0, 100.0))
    x = np.concatenate([rng.uniform(-1200, 2200, 3000), gx.ravel(), [2000.0000001, -1000.0000001, 1e-12]])
    y = np.concatenate([rng.uniform(-700, 1700, 3000), gy.ravel(), [0.0, 0.0, 1500.0]])
    fam = np.where(np.arange(x.size) % 3 == 0, "theft", "dispute")
    path = tmp_path / "points.parquet"
    pd.DataFrame({"x": x, "y": y, "family": fam}).to_parquet(path)
    ext = (-1000.0, -500.0, 2000.0, 1500.0)
    with open_lake(_settings(demo.settings, "spark")) as sp:
        tables = {"duckdb": ibis.duckdb.connect().read_parquet(path), "spark": sp.con.read_parquet(str(path))}
        grids = {e: heat_maps(t, None, extent=ext, cell_size=100, bandwidth=200) for e, t in tables.items()}
        auto = {e: heat_map(t, None, cell_size=100, bandwidth=200) for e, t in tables.items()}
    assert set(grids["duckdb"]) == set(grids["spark"]) == {"all", "theft", "dispute"}
    for k, g in grids["duckdb"].items():
        assert g.n == grids["spark"][k].n and np.array_equal(g.density, grids["spark"][k].density), k
    assert grids["duckdb"]["all"].n == ((x >= -1000) & (x <= 2000) & (y >= -500) & (y <= 1500)).sum()
    assert auto["duckdb"].extent == auto["spark"].extent and np.array_equal(auto["duckdb"].density,
                                                                            auto["spark"].density)


def test_word_tables_are_the_same_on_both_engines(spark: Any, demo: Any, tmp_path: Path) -> None:
    """Word counts on Spark come from the executors (segmented per partition, summed by Spark); sampled or not,
    they equal DuckDB's exactly: the same calls selected, the same counting function (the release test covers
    the unsampled tables of a release). So do the fraud techniques, whose amounts are read from the texts per
    partition too."""
    import ibis

    from anju.analytics.words import distinctive_terms, fraud_techniques, rising_terms, top_terms

    dep = load_deployment(demo.settings)
    out: dict[str, dict[str, pd.DataFrame]] = {}
    for engine in ("duckdb", "spark"):
        with open_lake(_settings(demo.settings, engine)) as lake:
            t, seg, tax = lake.incidents(), dep.segmenter, dep.taxonomy
            cache: dict = {}
            out[engine] = {
                "top_sampled": top_terms(t, "2025H2", max_texts=300, seed=3, segmenter=seg, taxonomy=tax),
                "top": top_terms(t, "2025H2", by=None, max_texts=None, segmenter=seg, taxonomy=tax, cache=cache),
                "distinctive": distinctive_terms(t, "2025H2", segmenter=seg, taxonomy=tax, cache=cache),
                "rising_sampled": rising_terms(t, "2025H2", max_texts=2000, segmenter=seg, taxonomy=tax),
                "fraud": fraud_techniques(t, "2025H2", comparison="yoy", taxonomy=tax),
            }
    for key, a in out["duckdb"].items():
        b = out["spark"][key]
        assert len(a) >= 8 and a.attrs == b.attrs, key
        assert_frames_match(a, b, key)
    assert set(out["duckdb"]["top_sampled"].attrs["texts"].values()) <= set(range(301))
    assert max(out["duckdb"]["top_sampled"].attrs["texts"].values()) == 300
    # fraud amounts written in the texts (the demo's losses are all in the column)
    rng = np.random.default_rng(2)
    n = 300
    fraud = pd.DataFrame({
        "reported_at": pd.Timestamp("2025-08-01") + pd.to_timedelta(rng.integers(0, 100, n), unit="D"),
        "family": "fraud", "category": rng.choice(["fraud.rebate", "fraud.investment", "fraud.romance"], n),
        "loss_yuan": rng.choice([np.nan, np.nan, 3000.0, 12_800.5], n),
        "text": rng.choice(["刷单被骗共计2万元", "投资平台被骗3.5万", "对方骗走五千余元", "咨询", None], n)})
    path = tmp_path / "fraud.parquet"
    fraud.to_parquet(path)
    with open_lake(_settings(demo.settings, "spark")) as sp:
        got = {e: fraud_techniques(t, "2025H2", taxonomy=dep.taxonomy)
               for e, t in (("duckdb", ibis.duckdb.connect().read_parquet(path)),
                            ("spark", sp.con.read_parquet(str(path))))}
    assert got["duckdb"].attrs["loss_from_text"] == got["spark"].attrs["loss_from_text"] > 50
    assert_frames_match(got["duckdb"], got["spark"], "fraud amounts from texts")


def test_lake_root_given_as_a_uri(spark: Any, demo: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """``ANJU_SPARK_LAKE_ROOT``: a ``file://`` root reads the same lake; a scheme Spark cannot read fails clearly."""
    from anju.errors import ConfigError
    from anju.lake.spark import LAKE_ROOT_ENV

    with open_lake(demo.settings) as duck:
        n = duck.incidents().count().execute()
        q = duck.quarantine().count().execute()
    monkeypatch.setenv(LAKE_ROOT_ENV, "file://" + str((demo.data_dir / "lake").resolve()) + "/")
    with open_lake(_settings(demo.settings, "spark")) as sp:
        assert sp.incidents().count().execute() == n and sp.quarantine().count().execute() == q
    monkeypatch.setenv(LAKE_ROOT_ENV, "s3a://anju-bucket/lake")
    with pytest.raises(ConfigError, match=r"s3a://.*hadoop-aws"):
        open_lake(_settings(demo.settings, "spark"))

"""Time parsing: property tests against Python's datetime for every supported way of writing a time."""

from __future__ import annotations

import calendar
import zoneinfo
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anju.ingest.timeparse import parse_times

CN = ["%Y年%m月%d日 %H时%M分", "%Y年%m月%d日 %H时%M分%S秒", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M"]
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")

moments = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2035, 12, 31, 23, 59, 59))


def _p(v: int, pad: bool) -> str:
    return f"{v:02d}" if pad else str(v)


def render(d: datetime, style: int, pad: bool, space: str) -> str:
    """The ways Chinese exports write a time."""
    if style == 0:
        return f"{d.year}年{_p(d.month, pad)}月{_p(d.day, pad)}日{space}{_p(d.hour, pad)}时{_p(d.minute, pad)}分"
    if style == 1:
        return (f"{d.year}年{_p(d.month, pad)}月{_p(d.day, pad)}日{space}{_p(d.hour, pad)}时{_p(d.minute, pad)}分"
                f"{_p(d.second, pad)}秒")
    if style == 2:
        return f"{d.year}/{_p(d.month, pad)}/{_p(d.day, pad)}{space or ' '}{_p(d.hour, pad)}:{d.minute:02d}:{d.second:02d}"
    return f"{d.year}/{_p(d.month, pad)}/{_p(d.day, pad)}{space or ' '}{_p(d.hour, pad)}:{d.minute:02d}"


def expected_local(d: datetime, style: int) -> datetime:
    return d.replace(microsecond=0) if style in (1, 2) else d.replace(second=0, microsecond=0)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(moments, st.integers(0, 3), st.booleans(), st.sampled_from(["", " ", "  "])),
                min_size=1, max_size=40))
def test_chinese_and_slash_formats_round_trip(cases) -> None:
    texts = [render(d, s, pad, sp) for d, s, pad, sp in cases]
    out = parse_times(pa.array(texts), CN, "Asia/Shanghai")
    got = out.local.to_pylist()
    for (d, s, _, _), text, g in zip(cases, texts, got, strict=True):
        assert g == expected_local(d, s), text
    for g, u in zip(got, out.utc.to_pylist(), strict=True):
        assert u == g.replace(tzinfo=SHANGHAI).astimezone(UTC)


@settings(max_examples=100, deadline=None)
@given(st.lists(moments, min_size=1, max_size=30))
def test_chicago_portal_format_with_am_pm(ds) -> None:
    texts = [d.strftime("%m/%d/%Y %I:%M:%S %p") for d in ds]
    out = parse_times(pa.array(texts), ["%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M"], "America/Chicago")
    assert out.local.to_pylist() == [d.replace(microsecond=0) for d in ds]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(moments, st.integers(-12 * 60, 14 * 60).map(lambda m: m - m % 15),
                          st.sampled_from(["T", " "]), st.booleans(), st.booleans()),
                min_size=1, max_size=30))
def test_iso_with_and_without_offsets(cases) -> None:
    texts, want_utc, want_local = [], [], []
    for d, off_min, sep, frac, with_offset in cases:
        base = d.strftime(f"%Y-%m-%d{sep}%H:%M:%S") + (".123456" if frac else "")
        d0 = d.replace(microsecond=0)
        if with_offset:
            sign = "+" if off_min >= 0 else "-"
            text = base + ("Z" if off_min == 0 else f"{sign}{abs(off_min) // 60:02d}:{abs(off_min) % 60:02d}")
            instant = (d0 - timedelta(minutes=off_min)).replace(tzinfo=UTC)
            want_utc.append(instant)
            want_local.append(instant.astimezone(SHANGHAI).replace(tzinfo=None))
        else:
            text = base
            want_local.append(d0)
            want_utc.append(d0.replace(tzinfo=SHANGHAI).astimezone(UTC))
        texts.append(text)
    out = parse_times(pa.array(texts), ["iso"], "Asia/Shanghai")
    assert out.local.to_pylist() == want_local
    assert out.utc.to_pylist() == want_utc


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(631152000, 2000000000), min_size=1, max_size=30), st.booleans())
def test_epoch_seconds_and_milliseconds(secs, ms) -> None:
    texts = [str(s * 1000 + 123) if ms else str(s) for s in secs]
    out = parse_times(pa.array(texts), ["epoch_ms" if ms else "epoch_s"], "Asia/Shanghai")
    want = [datetime.fromtimestamp(s, UTC) + (timedelta(milliseconds=123) if ms else timedelta()) for s in secs]
    assert out.utc.to_pylist() == want
    assert out.local.to_pylist() == [w.astimezone(SHANGHAI).replace(tzinfo=None) for w in want]


@settings(max_examples=200, deadline=None)
@given(st.integers(1990, 2035), st.integers(1, 12), st.integers(1, 31), st.booleans())
def test_impossible_calendar_dates_do_not_roll_over(y, m, d, pad) -> None:
    text = f"{y}年{_p(m, pad)}月{_p(d, pad)}日 10时00分"
    got = parse_times(pa.array([text]), CN, "Asia/Shanghai").local[0].as_py()
    valid = d <= calendar.monthrange(y, m)[1]
    assert got == (datetime(y, m, d, 10, 0) if valid else None)


def test_impossible_dates_with_offsets_and_slashes() -> None:
    out = parse_times(pa.array(["2019-02-30T10:00:00+08:00", "2000-04-30T23:00:00-01:00", "2019/4/31 10:00",
                                "2020/2/29 10:00"]), ["%Y/%m/%d %H:%M"], "Asia/Shanghai")
    assert out.utc.to_pylist() == [None, datetime(2000, 5, 1, tzinfo=UTC), None,
                                   datetime(2020, 2, 29, 2, tzinfo=UTC)]


def test_garbage_and_nulls() -> None:
    out = parse_times(pa.array(["", "  ", "不是时间", None, "2024-13-01 00:00:00", "2024年2月30日", " 2024/3/2 14:30 "]),
                      CN, "Asia/Shanghai")
    assert out.local.to_pylist()[:6] == [None] * 6
    assert out.local[6].as_py() == datetime(2024, 3, 2, 14, 30)
    assert out.ok.tolist() == [False] * 6 + [True]
    assert out.precision is not None and out.precision.to_pylist() == [None] * 6 + ["minute"]


# the spellings seen in Chinese exports, each with the wall-clock time and the precision it must give
CHINESE_SPELLINGS = [
    ("2025/3/1 下午2:05", datetime(2025, 3, 1, 14, 5), "minute"),
    ("2025/3/1 上午11:59", datetime(2025, 3, 1, 11, 59), "minute"),
    ("2025年3月1日 晚上11点20分", datetime(2025, 3, 1, 23, 20), "minute"),
    ("2025年3月1日 凌晨12点30分", datetime(2025, 3, 1, 0, 30), "minute"),
    ("2025年3月1日 中午12:10", datetime(2025, 3, 1, 12, 10), "minute"),
    ("2025.3.1 14:05", datetime(2025, 3, 1, 14, 5), "minute"),
    ("2025年3月1日", datetime(2025, 3, 1), "day"),
    ("2025年3月1日 14时", datetime(2025, 3, 1, 14), "hour"),
    ("2025年3月1日 14点05分", datetime(2025, 3, 1, 14, 5), "minute"),
    ("2025-3-1 14点半", datetime(2025, 3, 1, 14, 30), "minute"),
    ("45717.5", datetime(2025, 3, 1, 12), "minute"),  # an Excel serial number
    ("45717", datetime(2025, 3, 1), "day"),
    ("２０２５/３/１ １４：０５", datetime(2025, 3, 1, 14, 5), "minute"),
    ("202503011405", datetime(2025, 3, 1, 14, 5), "minute"),
    ("20250301", datetime(2025, 3, 1), "day"),
    ("2025-03-01 14:05:06.789", datetime(2025, 3, 1, 14, 5, 6), "minute"),
    ("2025/03/01 14:05:06,5", datetime(2025, 3, 1, 14, 5, 6), "minute"),
]


@pytest.mark.parametrize("text,want,precision", CHINESE_SPELLINGS, ids=[c[0] for c in CHINESE_SPELLINGS])
def test_chinese_export_spellings(text: str, want: datetime, precision: str) -> None:
    out = parse_times(pa.array(["2024年3月2日 14时30分", text]), CN, "Asia/Shanghai")
    assert out.local[1].as_py() == want
    assert out.precision is not None and out.precision.to_pylist() == ["minute", precision]


def test_date_and_time_of_day_columns_with_chinese_clock(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # a profile with a date column and a "14点05分" time column; a row without a time keeps its date (day precision)
    from anju.ingest import ingest_file
    from anju.ingest.profile import load_profile
    from anju.lake import connect

    prof_text = (Path(__file__).parents[2] / "src/anju/ingest/profiles/cn110.toml").read_text(encoding="utf-8")
    prof_text = prof_text.replace('time = ["报警时间", "接警时间"]', 'time = ["日期"]\ntime_of_day = ["时间"]')
    prof_text = prof_text.replace('name = "cn110"', 'name = "split"')
    pp = tmp_path / "split.toml"
    pp.write_text(prof_text, encoding="utf-8")
    csv = tmp_path / "split.csv"
    csv.write_text("接警编号,日期,时间,警情类别\nA1,2025年3月1日,14点05分,盗窃\nA2,2025/3/2,,盗窃\n"
                   "A3,2025.3.3,下午3点,盗窃\n", encoding="utf-8")
    report = ingest_file(settings, csv, profile=load_profile(str(pp)))
    assert report.rows_loaded == 3
    with connect(settings) as lake:
        got = lake.incidents().select("record_key", "reported_at", "time_precision").order_by("record_key").execute()
    assert [str(x) for x in got["reported_at"]] == ["2025-03-01 14:05:00", "2025-03-02 00:00:00",
                                                    "2025-03-03 15:00:00"]
    assert got["time_precision"].tolist() == ["minute", "day", "hour"]


def test_daylight_saving_changes() -> None:
    out = parse_times(pa.array(["2019-03-10 02:30:00", "2019-11-03 01:30:00", "2019-07-01 12:00:00"]), ["iso"],
                      "America/Chicago")
    assert [str(x) for x in out.utc.to_pylist()] == [
        "2019-03-10 08:00:00+00:00",  # 02:30 does not exist: the end of the gap (03:00 CDT)
        "2019-11-03 06:30:00+00:00",  # 01:30 happens twice: the earlier (CDT)
        "2019-07-01 17:00:00+00:00",
    ]
    assert out.local[0].as_py() == datetime(2019, 3, 10, 2, 30)  # the wall clock is kept as written

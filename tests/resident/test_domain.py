"""Pure resident-service logic: rules, working days, the work-order machine, plates, anti-abuse, photos,
mediation, metrics."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from anju.errors import ConfigError
from anju.resident.abuse import (
    InputError,
    RateLimiter,
    clean_text,
    find_duplicate,
    moderation_reasons,
    similarity,
)
from anju.resident.calendar import WorkCalendar, load_calendar
from anju.resident.mediation import next_sitting, sittings_between
from anju.resident.metrics import (
    department_performance,
    diversion_by_community_month,
    mediation_outcomes,
    wilson_interval,
)
from anju.resident.orders import Action, OrderState, Status, TransitionError, apply, state_type
from anju.resident.photos import reencode_photo
from anju.resident.plates import (
    PlateRow,
    is_plate_code,
    new_plate_code,
    plate_sheet_html,
    plate_sheet_pdf,
    qr_svg,
    read_plate_file,
)
from anju.resident.rules import load_resident_rules

TZ = dt.timezone(dt.timedelta(hours=8))


# ------------------------------------------------------------------------------------------------ rules
def test_shipped_rules_route_every_matter_and_kind():
    rules = load_resident_rules()
    expected = {"police": "station", "lost": "station", "market": "market", "property": "housing",
                "street_order": "city", "mediation": "mediation", "consult": "service"}
    assert {m: rules.route_for(m, "310190001001") for m in rules.matters()} == expected
    assert rules.route_for("nonexistent", "310190001001") == "dispatch"
    assert rules.sla_days("police") == 0 and rules.sla_days("market") == 13 and rules.sla_days("consult") == 3


def test_route_area_prefix_first_match(tmp_path):
    src = (Path(__file__).parents[2] / "src/anju/resident/data/resident.toml").read_text(encoding="utf-8")
    # the old-street scenic area (a street code) sends trade disputes to the scenic office, before the default
    src = src.replace('[[route]]\nmatter = "market"\narea = "*"',
                      '[[route]]\nmatter = "market"\narea = "310190003"\ndepartment = "scenic"\n\n'
                      '[[route]]\nmatter = "market"\narea = "*"', 1)
    p = tmp_path / "resident.toml"
    p.write_text(src, encoding="utf-8")
    rules = load_resident_rules(path=p)
    assert rules.route_for("market", "310190003007") == "scenic"
    assert rules.route_for("market", "310190004007") == "market"


@pytest.mark.parametrize("old,new,key", [
    ('department = "city"', 'department = "nowhere"', "route.4.department"),
    ('sla = "complaint"', 'sla = "weekly"', "matter.2.sla"),
    ('weekdays = [2, 5]', 'weekdays = [2, 9]', "mediation.weekdays"),
    ('threshold = 0.6', 'threshold = 1.6', "routing.threshold"),
])
def test_bad_rules_name_file_and_key(tmp_path, old, new, key):
    src = (Path(__file__).parents[2] / "src/anju/resident/data/resident.toml").read_text(encoding="utf-8")
    assert old in src
    p = tmp_path / "resident.toml"
    p.write_text(src.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_resident_rules(path=p)
    assert str(p) in str(e.value) and key in str(e.value)


# ------------------------------------------------------------------------------------------------ calendar
def test_working_days_with_holidays_and_makeup_days():
    cal = load_calendar()
    # National Day 2025: Oct 1–8 off, Sat Oct 11 is a working day
    assert cal.add_working_days("2025-09-30", 1) == dt.date(2025, 10, 9)
    assert cal.add_working_days("2025-10-09", 2) == dt.date(2025, 10, 11)  # Friday 10, then the make-up Saturday
    assert cal.is_working_day("2025-10-11") is True and cal.is_working_day("2025-10-12") is False
    # Spring Festival 2026 (Feb 16–23 off incl. weekend, Sat Feb 14 and Sat Feb 28 working)
    assert cal.add_working_days("2026-02-13", 1) == dt.date(2026, 2, 14)
    assert cal.add_working_days("2026-02-14", 1) == dt.date(2026, 2, 24)
    # 13 working days from a plain Monday = Thursday of the third week
    assert cal.add_working_days("2026-12-07", 13) == dt.date(2026, 12, 24)
    # vectorised and consistent with between()
    start = np.array(["2025-01-02", "2025-04-30", "2025-09-26"], dtype="datetime64[D]")
    ends = cal.add_working_days(start, np.array([3, 3, 13]))
    assert cal.working_days_between(start, ends).tolist() == [3, 3, 13]


def test_deadline_is_end_of_day_and_urgent_same_day():
    cal = WorkCalendar()
    created = dt.datetime(2026, 12, 4, 16, 30, tzinfo=TZ)  # Friday
    assert cal.deadline(created, 0) == dt.datetime(2026, 12, 4, 23, 59, 59, tzinfo=TZ)
    assert cal.deadline(created, 3) == dt.datetime(2026, 12, 9, 23, 59, 59, tzinfo=TZ)


def test_calendar_refuses_contradiction(tmp_path):
    (tmp_path / "resident").mkdir()
    (tmp_path / "resident" / "holidays.toml").write_text(
        'holidays = ["2026-10-01"]\nworkdays = ["2026-10-01"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="2026-10-01"):
        load_calendar(tmp_path)


# ------------------------------------------------------------------------------------------------ orders
def _at(day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, 12, day, hour, tzinfo=TZ)


def test_full_cycle_with_reopen():
    s = OrderState(Status.NEW, None, None)
    s, e = apply(s, "dispatch", note="派往市场监管所", at=_at(1), department="market", new_deadline=_at(18, 23))
    assert (s.status, s.department, e.from_status) == (Status.DISPATCHED, "market", Status.NEW)
    s, _ = apply(s, Action.SIGN, note="已签收", at=_at(1, 11))
    s, _ = apply(s, Action.START, note="联系商户", at=_at(2))
    s, e = apply(s, Action.CLOSE, note="商户已退款", at=_at(3), resolution="fixed")
    assert state_type(s.status, s.resolution) == "closed-fixed" and e.detail["resolution"] == "fixed"
    s, _ = apply(s, Action.VISIT, note="回访：不满意", at=_at(4), satisfied=False)
    s, e = apply(s, Action.REOPEN, note="重办", at=_at(4), new_deadline=_at(22, 23))
    assert (s.status, s.reopened, s.resolution, s.department) == (Status.DISPATCHED, 1, None, "market")
    s, _ = apply(s, Action.SIGN, note="重新签收", at=_at(5))
    s, _ = apply(s, Action.CLOSE, note="协调无果", at=_at(6), resolution="not_fixed")
    assert state_type(s.status, s.resolution) == "closed-not-fixed"


def test_transitions_refused_with_reasons():
    s = OrderState(Status.DISPATCHED, "market", _at(3, 23))
    with pytest.raises(TransitionError, match="note"):
        apply(s, Action.SIGN, note="  ", at=_at(1))
    with pytest.raises(TransitionError, match="not allowed"):
        apply(s, Action.CLOSE, note="x", at=_at(1), resolution="fixed")
    with pytest.raises(TransitionError, match="another department"):
        apply(s, Action.REASSIGN, note="x", at=_at(1), department="market", new_deadline=_at(9))
    signed, _ = apply(s, Action.SIGN, note="ok", at=_at(1))
    with pytest.raises(TransitionError, match="before the deadline"):
        apply(signed, Action.EXTEND, note="需要时间", at=_at(4), new_deadline=_at(10))
    ext, ev = apply(signed, Action.EXTEND, note="需要时间", at=_at(2), new_deadline=_at(10))
    assert ext.deadline == _at(10) and ext.extensions == 1 and ev.detail["old_deadline"]
    with pytest.raises(TransitionError, match="resolution"):
        apply(signed, Action.CLOSE, note="x", at=_at(2))
    with pytest.raises(TransitionError):
        apply(signed, Action.VISIT, note="x", at=_at(2), satisfied=True)


def test_return_reassign_urge_escalate_duplicate():
    s = OrderState(Status.SIGNED, "housing", _at(3, 23))
    r, e = apply(s, Action.RETURN, note="非本单位职责，退回", at=_at(2))
    assert (r.status, r.department, e.detail["from_department"]) == (Status.NEW, None, "housing")
    m, _ = apply(s, Action.REASSIGN, note="改派城管", at=_at(2), department="city", new_deadline=_at(20))
    assert (m.status, m.department) == (Status.DISPATCHED, "city")
    _, e1 = apply(s, Action.URGE, note="催办", at=_at(3, 9))
    _, e2 = apply(s, Action.URGE, note="超期催办", at=_at(4, 9))
    assert (e1.detail["overdue"], e2.detail["overdue"]) == (False, True)
    esc, _ = apply(s, Action.ESCALATE, note="上报督办", at=_at(10))
    assert esc.escalated and esc.status is Status.SIGNED
    d, _ = apply(s, Action.MARK_DUPLICATE, note="与前单重复", at=_at(2), duplicate_of="R1")
    assert state_type(d.status, d.resolution) == "duplicate"


# ------------------------------------------------------------------------------------------------ plates
def test_plate_codes_unguessable_and_well_formed():
    codes = {new_plate_code() for _ in range(2000)}
    assert len(codes) == 2000 and all(is_plate_code(c) for c in codes)
    assert not is_plate_code("ILOU" * 4) and not is_plate_code("../etc/passwd")


def test_qr_and_sheet_pdf(tmp_path):
    svg = qr_svg("http://127.0.0.1:8000/p/ABCDEFGHJKMNPQRS")
    assert svg.startswith("<svg") and "path" in svg
    rows = [(PlateRow("310190001001", f"{i}号", "1", "101", community_name="<script>x</script>莲花新村"),
             new_plate_code()) for i in range(10)]
    html = plate_sheet_html(rows, "http://127.0.0.1:8000")
    assert "<script>x" not in html and "&lt;script&gt;" in html and html.count('class="plate"') == 10
    pdf = plate_sheet_pdf(rows, "http://127.0.0.1:8000")
    assert pdf[:5] == b"%PDF-"
    (tmp_path / "s.pdf").write_bytes(pdf)
    import shutil
    import subprocess

    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(tmp_path / "s.pdf")], capture_output=True, text=True).stdout
        assert "Pages:           2" in info  # 8 plates per A4 page


def test_plate_sheet_pdf_decodes_to_the_plate_url(tmp_path):
    import shutil
    import subprocess

    if shutil.which("pdftoppm") is None:
        pytest.skip("poppler-utils not installed")
    code = new_plate_code()
    pdf = plate_sheet_pdf([(PlateRow("310190001001", "3号", "2", "301"), code)], "http://127.0.0.1:8000")
    (tmp_path / "s.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-singlefile", str(tmp_path / "s.pdf"), str(tmp_path / "s")],
                   check=True)
    text = subprocess.run(["pdftotext", str(tmp_path / "s.pdf"), "-"], capture_output=True, text=True).stdout
    assert code in text and "3号" in text
    assert (tmp_path / "s.png").stat().st_size > 1000


def test_plate_import_accounts_for_every_row(tmp_path):
    df = pd.DataFrame({
        "社区编码": ["310190001001", "310190001001", "", "999", "310190001001", "310190001001", "310190001002"],
        "楼栋": ["1号", "1号", "2号", "3号", "", "4号", "5号"],
        "单元": ["1", "1", "1", "1", "1", "2", "1"],
        "门牌": ["101", "101", "102", "103", "104", "201", "301"],
        "经度": ["121.4", "121.4", "", "", "", "abc", "200"],
        "纬度": ["31.1", "31.1", "", "", "", "31.1", "31.1"],
    })
    p = tmp_path / "plates.xlsx"
    df.to_excel(p, index=False)
    comms = {"310190001001": "莲花新村", "310190001002": "春申景城"}
    res = read_plate_file(p, communities=comms)
    assert res.rows == 7
    assert [r for r, _ in res.accepted] == [2]
    reasons = dict(res.rejected)
    assert set(reasons) == {3, 4, 5, 6, 7, 8}
    assert "重复" in reasons[3] and "社区编码为空" in reasons[4] and "未知社区" in reasons[5]
    assert "楼栋为空" in reasons[6] and "不是数字" in reasons[7] and "中国范围" in reasons[8]
    again = read_plate_file(p, communities=comms, existing={("310190001001", "1号", "1", "101")})
    assert again.accepted == [] and again.existing == [2, 3]


# ------------------------------------------------------------------------------------------------ abuse
def test_clean_text_keeps_content_drops_controls():
    s = clean_text("  <script>alert(1)</script>\x00楼道\u202e灯坏了\r\n ", max_chars=100)
    assert s == "<script>alert(1)</script>楼道灯坏了"
    assert clean_text("\ud800坏", max_chars=10) == "\ufffd坏"
    with pytest.raises(InputError, match="过长"):
        clean_text("好" * 2001, max_chars=2000)
    with pytest.raises(InputError, match="不能为空"):
        clean_text("\x00 \t", max_chars=10)


def test_rate_limiter_sliding_window():
    rl = RateLimiter(3, 10.0)
    got = [rl.hit("k", now=t) for t in (0, 1, 2, 3, 9.9, 10.5, 11.5, 12.5)]
    assert got == [True, True, True, False, False, True, True, True]
    assert rl.hit("other", now=3) is True
    assert rl.retry_after("k", now=12.6) >= 1


def test_duplicates_and_moderation():
    assert similarity("楼上装修噪音太大，请处理", "楼上装修噪音太大了请处理！") == pytest.approx(0.75)
    assert similarity("楼上装修噪音太大", "商家卖假货不退款") < 0.1
    recent = [("R1", "商家卖假货不退款"), ("R2", "楼上装修噪音太大，请处理")]
    assert find_duplicate("楼上装修的噪音太大，请处理", recent, threshold=0.6) == "R2"
    assert find_duplicate("路灯坏了", recent, threshold=0.6) is None
    assert moderation_reasons("楼道灯坏了") == []
    assert set(moderation_reasons("<img src=x onerror=alert(1)> 加微信 abc12345 www.spam.com")) >= {
        "markup", "advertising_contact", "link"}


# ------------------------------------------------------------------------------------------------ photos
def _jpeg_with_exif() -> bytes:
    img = Image.new("RGB", (3000, 1000), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x0112] = 6  # orientation: rotate 90°
    buf = io.BytesIO()
    img.save(buf, format="JPEG", exif=exif)
    return buf.getvalue()


def test_photo_reencoded_upright_without_metadata():
    out = reencode_photo(_jpeg_with_exif(), max_bytes=5_000_000, max_side=1600)
    with Image.open(io.BytesIO(out)) as im:
        assert im.format == "JPEG" and max(im.size) == 1600
        assert im.size[1] > im.size[0]  # rotated upright from orientation 6
        assert not im.getexif() and "icc_profile" not in im.info
    assert b"SecretCam" not in out


@pytest.mark.parametrize("data,msg", [
    (b"", "为空"),
    (b"GIF89a" + b"\x00" * 100, "无法识别|不支持"),
    (b"<svg onload=alert(1)></svg>", "无法识别"),
    (b"x" * 6_000_001, "过大"),
])
def test_photo_refused(data, msg):
    with pytest.raises(InputError, match=msg):
        reencode_photo(data, max_bytes=5_000_000, max_side=1600)


def test_photo_refuses_gif():
    buf = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buf, format="GIF")
    with pytest.raises(InputError, match="不支持"):
        reencode_photo(buf.getvalue(), max_bytes=5_000_000, max_side=1600)


# ------------------------------------------------------------------------------------------------ mediation
def test_mediation_sittings_skip_holidays():
    cal = load_calendar()
    # Tuesday 2025-09-30 before noon → that day; after noon → Friday Oct 3 is a holiday → Tuesday Oct 7 off too
    # (National Day) → Friday Oct 10
    assert next_sitting(dt.datetime(2025, 9, 30, 9), [2, 5], cal) == dt.date(2025, 9, 30)
    assert next_sitting(dt.datetime(2025, 9, 30, 15), [2, 5], cal) == dt.date(2025, 10, 10)
    days = sittings_between(dt.date(2025, 9, 29), dt.date(2025, 10, 17), [2, 5], cal)
    assert [str(d) for d in days] == ["2025-09-30", "2025-10-10", "2025-10-14", "2025-10-17"]


# ------------------------------------------------------------------------------------------------ metrics
def test_wilson_matches_reference():
    # reference values: statsmodels proportion_confint(method="wilson")
    from statsmodels.stats.proportion import proportion_confint

    k, n = np.array([0, 3, 45, 100]), np.array([10, 7, 50, 100])
    lo, hi = wilson_interval(k, n)
    rlo, rhi = proportion_confint(k, n, method="wilson")
    assert np.allclose(lo, rlo) and np.allclose(hi, rhi)
    lo0, _ = wilson_interval([1], [0])
    assert np.isnan(lo0[0])


def test_department_performance():
    t = pd.Timestamp("2026-12-01T02:00:00Z")
    h = pd.Timedelta(hours=1)
    orders = pd.DataFrame({
        "department": ["market", "market", "market", "city"],
        "created_at": [t, t, t, t],
        "signed_at": [t + 2 * h, t + 4 * h, pd.NaT, t + h],
        "closed_at": [t + 10 * h, t + 500 * h, pd.NaT, pd.NaT],
        "deadline": [t + 100 * h, t + 100 * h, t + 50 * h, t + 1000 * h],
        "reopened": [0, 1, 0, 0],
        "satisfied": [True, False, None, None],
    })
    out = department_performance(orders, now=t + 200 * h).set_index("department")
    m = out.loc["market"]
    assert (m["orders"], m["closed"], m["sla_due"], m["sla_met"]) == (3, 2, 3, 1)
    assert m["median_hours_to_sign"] == 3.0 and m["reopen_rate"] == 0.5 and m["satisfaction"] == 0.5
    assert m["satisfaction_lo"] < 0.5 < m["satisfaction_hi"]
    assert out.loc["city", "sla_due"] == 0 and np.isnan(out.loc["city", "sla_rate"])


def test_diversion_and_mediation_outcomes():
    reports = pd.DataFrame({"community_code": ["A", "A", "A", "B"],
                            "created_at": pd.to_datetime(["2025-03-02T01:00Z", "2025-03-05T01:00Z",
                                                          "2025-03-09T01:00Z", "2025-04-01T01:00Z"]),
                            "police": [False, False, True, False]})
    calls = pd.DataFrame({"community_code": ["A", "B"], "month": ["2025-03", "2025-05"], "dispute_calls": [6, 3]})
    out = diversion_by_community_month(reports, calls)
    a = out[(out.community_code == "A") & (out.month == "2025-03")].iloc[0]
    assert (a.reports, a.diverted, a.dispute_calls) == (3, 2, 6) and a.diverted_share == pytest.approx(0.25)
    assert len(out) == 3
    ref = pd.DataFrame({"outcome": ["settled", "settled", "settled", "not_settled", None]})
    mo = mediation_outcomes(ref).set_index("outcome")
    assert mo.loc["settled", "n"] == 3 and mo.loc["settled", "share"] == 0.75 and mo.loc["pending", "n"] == 1


def test_unknown_calendar_range_refused():
    with pytest.raises(ConfigError):
        WorkCalendar().add_working_days("2050-01-01", 1)


def test_random_codes_use_every_character_evenly_at_every_position():
    """Receipts and plate codes come from one random read per code (5 bits per character): each position must
    take all 32 characters evenly (a bit-slicing mistake shows as a missing or over-frequent character)."""
    from collections import Counter

    from anju.resident.plates import CODE_ALPHABET, random_code

    codes = [random_code(12) for _ in range(6400)]
    assert all(len(c) == 12 and set(c) <= set(CODE_ALPHABET) for c in codes) and len(set(codes)) == 6400
    for pos in range(12):
        counts = Counter(c[pos] for c in codes)
        expected = len(codes) / 32
        chi2 = sum((counts.get(ch, 0) - expected) ** 2 / expected for ch in CODE_ALPHABET)
        assert chi2 < 80, (pos, counts)  # 31 degrees of freedom: P(chi2 > 80) ≈ 3e-6

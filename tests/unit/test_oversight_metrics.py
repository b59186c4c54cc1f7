"""Pure oversight measures: known answers on hand-made rows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from casetracker.cases.clocks import BusinessCalendar
from casetracker.oversight import early_intervention as ei
from casetracker.oversight import metrics as m
from casetracker.oversight import svg


def test_monthly_trend_fills_every_month_of_the_period() -> None:
    rows = [{"month": "2024-01", "n": 2}, {"month": "2024-03", "n": 1}]
    trend = m.monthly_trend(rows, m.Period(date(2024, 1, 1), date(2024, 4, 30)))
    assert trend == [{"label": "2024-01", "count": 2}, {"label": "2024-02", "count": 0},
                     {"label": "2024-03", "count": 1}, {"label": "2024-04", "count": 0}]


def test_long_periods_are_shown_by_year() -> None:
    rows = [{"month": "2001-05", "n": 3}, {"month": "2001-07", "n": 1}, {"month": "2004-01"}]
    trend = m.monthly_trend(rows, m.Period(date(2000, 1, 1), date(2004, 12, 31)))
    assert [t["count"] for t in trend] == [0, 4, 0, 0, 1]


def test_allegation_breakdown_and_sustained_rates() -> None:
    rows = [
        {"allegation_type": "racial_profiling", "protected_characteristic": "race",
         "final_finding": "sustained", "n": 1},
        {"allegation_type": "racial_profiling", "protected_characteristic": "race",
         "final_finding": "not_sustained", "n": 3},
        {"allegation_type": "racial_profiling", "protected_characteristic": "language",
         "final_finding": "withdrawn", "n": 2},  # not a merits finding: not in the rate
        {"allegation_type": "force", "protected_characteristic": "", "final_finding": "sustained",
         "n": 2},
        {"allegation_type": "force", "protected_characteristic": "", "final_finding": "unfounded",
         "n": 6},
        {"allegation_type": "search", "protected_characteristic": "", "final_finding": "", "n": 5},
    ]
    b = m.allegation_breakdown(rows)
    assert b["total"] == 19
    assert b["by_type"] == {"racial_profiling": 6, "force": 8, "search": 5} or \
        b["by_type"] == {"force": 8, "racial_profiling": 6, "search": 5}
    assert b["by_characteristic"] == {"race": 4, "language": 2}
    assert b["findings_by_type"]["search"] == {"pending": 5}
    assert b["sustained"] == {"profiling": 1, "other": 2}
    assert b["merits"] == {"profiling": 4, "other": 8}
    assert b["sustained_rate"] == {"profiling": 25.0, "other": 25.0}


def test_closed_without_merits_share() -> None:
    rows = [{"has_merits": 1, "n": 6}, {"has_merits": 0, "n": 2}]
    assert m.closed_without_merits(rows) == {"closed": 8, "without_merits": 2, "share": 25.0}
    assert m.closed_without_merits([])["share"] is None


def test_percentiles_on_a_histogram() -> None:
    hist = [{"days": d, "n": 1} for d in (10, 20, 30, 40, 50, 60, 70, 80, 90, 100)]
    assert m.percentile(hist, 50) == 50
    assert m.percentile(hist, 90) == 90
    assert m.percentile([{"days": 5, "n": 9}, {"days": 200, "n": 1}], 90) == 5
    assert m.percentile([], 50) is None


def test_within_limit_counts_the_limit_itself_as_on_time() -> None:
    hist = [{"days": 90, "n": 2}, {"days": 91, "n": 1}, {"days": 3, "n": 1}]
    assert m.within(hist, 90) == {"measured": 4, "on_time": 3, "late": 1, "share": 75.0}


def test_ice_notice_counts_weekday_hours_only() -> None:
    cal = BusinessCalendar(zone="America/New_York")
    friday = datetime(2024, 3, 1, 15, tzinfo=UTC)  # Friday 10:00 in New York
    now = datetime(2024, 6, 1, tzinfo=UTC)
    rows = [
        # notified Tuesday 10:00 local: Fri 14h + Mon 24h + Tue 10h = 48 weekday hours: on time
        {"received_at": friday, "ice_notified_at": friday + timedelta(days=4)},
        # one hour later: late
        {"received_at": friday, "ice_notified_at": friday + timedelta(days=4, hours=1)},
        # never notified, long past due: overdue
        {"received_at": friday, "ice_notified_at": None},
        # received just now, not yet due: pending, left out
        {"received_at": now - timedelta(hours=1), "ice_notified_at": None},
    ]
    result = m.ice_notice_timeliness(rows, cal, 48, now)
    assert result == {"measured": 3, "on_time": 1, "late": 1, "overdue": 1, "pending": 1,
                      "share": 33.3}


def test_officer_status_counts_officers_not_designations() -> None:
    today = date(2025, 1, 1)
    rows = [
        {"officer_id": 1, "status": "suspended"},
        {"officer_id": 2, "status": "revoked"},
        {"officer_id": 3, "status": "active", "authorisation_expires_on": date(2024, 12, 31),
         "last_refresher_on": date(2024, 6, 1)},
        {"officer_id": 4, "status": "active", "authorisation_expires_on": date(2025, 1, 1),
         "training_completed_on": date(2023, 1, 1)},  # 731 days before today: stale
        {"officer_id": 5, "status": "active", "training_completed_on": date(2023, 1, 2)},
        {"officer_id": 5, "status": "active", "training_completed_on": date(2023, 1, 2)},
    ]
    s = m.officer_status(rows, today, 730)
    assert (s["suspended"], s["revoked"], s["expired"], s["stale_training"], s["active"]) == \
        (1, 1, 1, 1, 3)
    assert s["current_training_share"] == 66.7


def test_officers_are_counted_as_they_stood_at_the_end_of_a_past_period() -> None:
    rows = [
        # suspended in March, lifted in September
        {"officer_id": 1, "status": "active", "suspended_on": date(2024, 3, 1),
         "suspension_lifted_on": date(2024, 9, 1)},
        # suspended in May, revoked in November (status now: revoked)
        {"officer_id": 2, "status": "revoked", "suspended_on": date(2024, 5, 1),
         "revoked_on": date(2024, 11, 1)},
        # designated only in October
        {"officer_id": 3, "status": "active", "authorised_on": date(2024, 10, 1),
         "training_completed_on": date(2024, 9, 1)},
        # suspended with no date on record (older data): its current status is all we know
        {"officer_id": 4, "status": "suspended"},
    ]
    june = m.officer_status(rows, date(2024, 6, 30), 730)
    assert (june["suspended"], june["revoked"], june["active"]) == (3, 0, 0)
    assert june["ids"]["suspended"] == [1, 2, 4]
    december = m.officer_status(rows, date(2024, 12, 31), 730)
    assert (december["suspended"], december["revoked"], december["active"]) == (1, 1, 2)
    assert m.designation_status_on(rows[0], date(2024, 2, 29)) == "active"
    assert m.designation_status_on(rows[0], date(2024, 3, 1)) == "suspended"
    assert m.designation_status_on(rows[2], date(2024, 9, 30)) is None


def test_inactive_agencies_put_wso_first() -> None:
    agencies = [{"id": 1, "name": "B", "state": "TX", "models": ["JEM"]},
                {"id": 2, "name": "A", "state": "TX", "models": ["WSO", "JEM"]},
                {"id": 3, "name": "C", "state": "FL", "models": ["WSO"]}]
    out = m.inactive_agencies(agencies, [3])
    assert [(a["id"], a["wso"]) for a in out] == [(2, True), (1, False)]


def test_recommendation_counts() -> None:
    rows = [{"status": "draft", "n": 2},
            {"status": "issued", "issued": True, "n": 3, "state": "acted", "days_to_action": 10},
            {"status": "issued", "issued": True, "n": 1, "state": "acted", "days_to_action": 40},
            {"status": "issued", "issued": True, "n": 1, "state": "declined"},
            {"status": "issued", "issued": True, "n": 2, "state": "overdue"},
            {"status": "issued", "issued": True, "n": 1, "state": "awaiting"},
            {"status": "issued", "issued": True, "drafted": False, "n": 1, "state": ""}]
    r = m.recommendation_counts(rows)
    assert (r["drafted"], r["issued"]) == (10, 9)
    assert (r["acted"], r["declined"], r["unanswered"], r["overdue"]) == (4, 1, 4, 2)
    assert r["median_days_to_action"] == 10  # 10, 10, 10, 40
    assert m.recommendation_counts([])["median_days_to_action"] is None
    assert m.median([3, 1, 2, 10]) == 2.5


@pytest.mark.parametrize(("cells", "total", "expected", "expected_total"), [
    # nothing small: unchanged
    ({"a": 10, "b": 5, "c": 0}, 15, {"a": 10, "b": 5, "c": 0}, 15),
    # one small cell: the next smallest non-zero is withheld too (complementary)
    ({"a": 10, "b": 3, "c": 7}, 20, {"a": 10, "b": None, "c": None}, 20),
    # two small cells: enough on their own
    ({"a": 10, "b": 3, "c": 4}, 17, {"a": 10, "b": None, "c": None}, 17),
    # a small total: everything withheld
    ({"a": 3, "b": 0}, 3, {"a": None, "b": 0}, None),
    # the boundary: 5 is published, 4 is not
    ({"a": 5, "b": 6}, 11, {"a": 5, "b": 6}, 11),
])
def test_suppression(cells: dict[str, int], total: int, expected: dict[str, int | None],
                     expected_total: int | None) -> None:
    assert m.suppress_table(cells, total) == (expected, expected_total)


def test_suppressed_tables_never_let_a_withheld_cell_be_recomputed() -> None:
    import itertools

    for values in itertools.product([0, 1, 4, 5, 9], repeat=3):
        cells = dict(zip("abc", values, strict=True))
        total = sum(values)
        out, shown_total = m.suppress_table(cells, total)
        assert all(v is None or v == 0 or v >= 5 for v in out.values())
        withheld = [k for k, v in out.items() if v is None]
        if shown_total is not None:
            assert len(withheld) != 1, (cells, out)
        assert shown_total is None or shown_total == 0 or shown_total >= 5


# --- early intervention -------------------------------------------------------------------

def _events(subject: str, measure: str, days: list[date], subject_id: int = 7) -> list[ei.Event]:
    return [ei.Event(subject, subject_id, measure, d, case_id=i + 1) for i, d in enumerate(days)]


AS_OF = date(2025, 6, 30)


def test_officer_complaints_fire_exactly_at_three_in_the_window() -> None:
    rules = ei.DEFAULT_RULES
    two = _events("officer", "complaints", [date(2025, 1, 1), date(2025, 3, 1)])
    assert ei.evaluate(rules, two, AS_OF) == []
    three = two + _events("officer", "complaints", [date(2025, 6, 30)])[:1]
    three[-1] = ei.Event("officer", 7, "complaints", date(2025, 6, 30), case_id=3)
    flags = ei.evaluate(rules, three, AS_OF)
    assert [(f.rule.key, f.level, f.count) for f in flags] == [("officer_complaints", "warning", 3)]


def test_the_window_is_exactly_365_days() -> None:
    # 2024-06-30 is 365 days before AS_OF: outside (window is as_of-365 exclusive .. as_of)
    events = [ei.Event("officer", 7, "complaints", d, i) for i, d in enumerate(
        [date(2024, 6, 30), date(2025, 1, 1), date(2025, 2, 1)])]
    assert ei.evaluate(ei.DEFAULT_RULES, events, AS_OF) == []
    events[0] = ei.Event("officer", 7, "complaints", date(2024, 7, 1), 0)  # 364 days: inside
    assert [f.count for f in ei.evaluate(ei.DEFAULT_RULES, events, AS_OF)] == [3]


def test_complaints_count_cases_not_allegations() -> None:
    events = [ei.Event("officer", 7, "complaints", date(2025, 1, 1), 1)] * 3
    assert ei.evaluate(ei.DEFAULT_RULES, events, AS_OF) == []


def test_critical_level_replaces_warning() -> None:
    events = [ei.Event("officer", 7, "complaints", date(2025, 1, d), d) for d in range(1, 6)]
    flags = ei.evaluate(ei.DEFAULT_RULES, events, AS_OF)
    assert [(f.level, f.count, f.threshold) for f in flags] == [("critical", 5, 5)]
    flags = ei.evaluate(ei.DEFAULT_RULES, events[:4], AS_OF)
    assert [(f.level, f.count, f.threshold) for f in flags] == [("warning", 4, 3)]


def test_profiling_fires_at_two_and_any_sustained_profiling_is_critical() -> None:
    one = [ei.Event("officer", 7, "profiling", date(2025, 5, 1), 1)]
    assert ei.evaluate(ei.DEFAULT_RULES, one, AS_OF) == []
    two = one + [ei.Event("officer", 7, "profiling", date(2025, 5, 2), 2)]  # noqa: RUF005
    assert [(f.rule.key, f.level) for f in ei.evaluate(ei.DEFAULT_RULES, two, AS_OF)] == [
        ("officer_profiling", "warning")]
    sustained = [ei.Event("officer", 7, "sustained_profiling", date(2025, 5, 1), 1)]
    assert [(f.rule.key, f.level) for f in ei.evaluate(ei.DEFAULT_RULES, sustained, AS_OF)] \
        == [("officer_sustained_profiling", "critical")]


def test_agency_thresholds_scale_with_designated_officers() -> None:
    events = [ei.Event("agency", 3, "complaints", date(2025, 1, d), d) for d in range(1, 7)]
    # 4 designated officers: warning at 12, critical at 20 -> 6 complaints: no flag
    assert ei.evaluate(ei.DEFAULT_RULES, events, AS_OF, {3: 4}) == []
    # 2 designated officers: warning at 6 -> exactly at threshold
    flags = ei.evaluate(ei.DEFAULT_RULES, events, AS_OF, {3: 2})
    assert [(f.subject, f.level, f.threshold) for f in flags] == [("agency", "warning", 6)]
    # no designated officers counts as one
    assert ei.evaluate(ei.DEFAULT_RULES, events[:2], AS_OF, {}) == []
    assert [f.level for f in ei.evaluate(ei.DEFAULT_RULES, events[:3], AS_OF, {})] == ["warning"]


def test_rules_are_configurable() -> None:
    rules = ei.merge_rules([{"key": "officer_complaints", "warning_at": 2, "critical_at": 0,
                             "window_days": 30}])
    events = [ei.Event("officer", 7, "complaints", date(2025, 6, d), d) for d in (1, 29)]
    flags = ei.evaluate(rules, events, AS_OF)
    assert [(f.level, f.threshold) for f in flags] == [("warning", 2)]
    disabled = ei.merge_rules([{"key": "officer_complaints", "enabled": False}])
    assert ei.evaluate(disabled, events * 3, AS_OF) == []


def test_max_in_any_window() -> None:
    days = [date(2010, 1, 1), date(2010, 6, 1), date(2010, 12, 31), date(2012, 1, 1)]
    assert ei.max_in_any_window(days, 365) == 3
    assert ei.max_in_any_window(days, 364) == 2


# --- charts --------------------------------------------------------------------------------

def test_charts_are_plain_svg_without_script_and_escape_labels() -> None:
    charts = [
        svg.bar_chart("Trend <b>", ["2024-01", "<script>"], [3, 5]),
        svg.hbar_chart("Time", ["ICE"], [50.0], max_value=100, value_suffix="%"),
        svg.stacked_bars("Findings", ["Force"], ["Sustained", "Unfounded"], [[1, 2]]),
    ]
    for chart in charts:
        text = str(chart).lower()
        assert text.startswith("<svg") and "role=\"img\"" in text and "<title" in text
        assert "<script" not in text and "onload" not in text and "href" not in text
    assert "&lt;script&gt;" in str(charts[0])


# --- the filter form -------------------------------------------------------------------------

def test_this_year_so_far_is_counted_in_local_days(monkeypatch: pytest.MonkeyPatch) -> None:
    """02:00 UTC on 1 January is still New Year's Eve in New York: the default period is the
    old year, whose local days (services.period_bounds) hold that evening's complaints."""
    from types import SimpleNamespace

    from casetracker import settings
    from casetracker.oversight import forms, views

    class Clock(datetime):
        @classmethod
        def now(cls, tz: object = None) -> datetime:  # type: ignore[override]
            return datetime(2027, 1, 1, 2, 0, tzinfo=UTC).astimezone(tz)  # type: ignore[arg-type]

    monkeypatch.setattr(settings, "datetime", Clock)  # "today" comes from settings.local_today
    monkeypatch.setattr(settings, "get_settings",
                        lambda: SimpleNamespace(timezone="America/New_York"))
    period, _scope, errors, _values = forms.parse_filters({})
    assert errors == {}
    assert period == m.Period(date(2026, 1, 1), date(2026, 12, 31))
    assert views.default_period() == period

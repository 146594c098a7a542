"""Policies: the shipped file, selection by specificity, and refusal of malformed, overlapping or incomplete sets."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from sla import PolicyError, PolicySet

DATA = Path(__file__).resolve().parents[3] / "config" / "data"
CHANNELS = ("96196", "12345", "12328", "12319", "web")
KINDS = ("consultation", "help", "complaint", "report", "suggestion", "praise")


def row(
    id: str,
    clock: str = "reply",
    channel: str = "*",
    kind: str = "*",
    urgent: Any = "*",
    limit: float = 1,
    unit: str = "working_days",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "id": id,
        "clock": clock,
        "channel": channel,
        "kind": kind,
        "urgent": urgent,
        "limit": limit,
        "unit": unit,
        **extra,
    }


FALLBACKS = [row("sign-all", "sign"), row("reply-all", "reply"), row("callback-all", "callback")]


def shipped() -> dict[str, Any]:
    return tomllib.loads((DATA / "sla_policies.toml").read_text("utf-8"))


# ---- the shipped file --------------------------------------------------------------------------------------


def test_shipped_policies_are_complete_with_and_without_code_lists() -> None:
    PolicySet.from_config(shipped(), channels=CHANNELS, kinds=KINDS)
    PolicySet.from_config(shipped())  # the all-wildcard fallbacks cover unknown codes too


@pytest.mark.parametrize(
    ("clock", "kind", "urgent", "policy_id", "limit", "unit"),
    [
        ("sign", "complaint", False, "sign-default", 1, "working_days"),
        ("sign", "complaint", True, "sign-urgent", 30, "minutes"),
        ("reply", "consultation", False, "reply-consultation", 2, "working_days"),
        ("reply", "help", False, "reply-help", 10, "working_days"),
        ("reply", "suggestion", False, "reply-suggestion", 10, "working_days"),
        ("reply", "complaint", False, "reply-complaint", 15, "working_days"),
        ("reply", "report", False, "reply-report", 15, "working_days"),
        ("reply", "praise", False, "reply-praise", 10, "working_days"),
        ("reply", "praise", True, "reply-urgent", 24, "hours"),
        ("reply", "a-new-kind", False, "reply-default", 15, "working_days"),
        ("callback", "complaint", True, "callback-default", 1, "working_days"),
    ],
)
def test_shipped_limits(
    policies: PolicySet, clock: str, kind: str, urgent: bool, policy_id: str, limit: float, unit: str
) -> None:
    selected = policies.select(clock, "12345", kind, urgent)
    assert (selected.id, selected.limit, selected.unit) == (policy_id, limit, unit)
    assert selected.warning_ratio == 0.75
    assert selected.supervision_after_working_days == 2


# ---- selection ---------------------------------------------------------------------------------------------


def test_most_specific_row_wins() -> None:
    ps = PolicySet.from_rows(
        [
            *FALLBACKS,
            row("reply-complaint", kind="complaint", limit=15),
            row("reply-12345-complaint", channel="12345", kind="complaint", urgent=False, limit=10),
        ]
    )
    assert ps.select("reply", "12345", "complaint", False).id == "reply-12345-complaint"
    assert ps.select("reply", "12345", "complaint", True).id == "reply-complaint"
    assert ps.select("reply", "96196", "complaint", False).id == "reply-complaint"
    assert ps.select("reply", "96196", "help", False).id == "reply-all"


def test_select_without_a_match_or_with_an_unknown_clock_is_a_policy_error() -> None:
    ps = PolicySet.from_rows(FALLBACKS)
    with pytest.raises(PolicyError, match="unknown clock 'close'"):
        ps.select("close", "96196", "help", False)
    # Complete for the listed channels, with no wildcard: a channel outside the list matches nothing.
    per_channel = [
        row(f"{clock}-{ch}", clock, channel=ch) for clock in ("sign", "reply", "callback") for ch in CHANNELS
    ]
    ps = PolicySet.from_rows(per_channel, channels=CHANNELS, kinds=KINDS)
    assert ps.select("reply", "web", "help", True).id == "reply-web"
    with pytest.raises(PolicyError, match="no policy row matches clock=reply channel=12580"):
        ps.select("reply", "12580", "help", True)


def test_defaults_and_per_row_overrides() -> None:
    ps = PolicySet.from_rows(
        [*FALLBACKS[:2], row("callback-all", "callback", warning_ratio=0.5, supervision_after_working_days=3)],
        defaults={"warning_ratio": 0.8, "supervision_after_working_days": 1},
    )
    assert ps.select("reply", "web", "help", False).warning_ratio == 0.8
    assert ps.select("reply", "web", "help", False).supervision_after_working_days == 1
    assert ps.select("callback", "web", "help", False).warning_ratio == 0.5
    assert ps.select("callback", "web", "help", False).supervision_after_working_days == 3


def test_to_rows_round_trips(policies: PolicySet) -> None:
    again = PolicySet.from_rows(policies.to_rows(), version=policies.version, channels=CHANNELS, kinds=KINDS)
    assert again == policies
    assert again.rows == policies.rows
    assert all("warning_ratio" in r and "supervision_after_working_days" in r for r in policies.to_rows())


def test_version_from_argument_then_file_then_one() -> None:
    doc = shipped()
    assert PolicySet.from_config(doc, version=7).version == 7
    assert PolicySet.from_config({**doc, "version": 3}).version == 3
    assert PolicySet.from_config({k: v for k, v in doc.items() if k != "version"}).version == 1
    assert PolicySet.from_rows(FALLBACKS).version == 1


# ---- refusal at load, naming the rows ----------------------------------------------------------------------


def problems_of(rows: list[dict[str, Any]], **kwargs: Any) -> tuple[str, ...]:
    with pytest.raises(PolicyError) as err:
        PolicySet.from_rows(rows, **kwargs)
    assert isinstance(err.value, ValueError)  # the API maps ValueError to a 4xx
    return err.value.problems


def test_overlap_of_equal_specificity_is_refused_naming_both_rows() -> None:
    # Both have specificity 1, and a 12345 complaint matches both: which limit applies would be arbitrary.
    problems = problems_of([*FALLBACKS, row("by-channel", channel="12345"), row("by-kind", kind="complaint")])
    assert len(problems) == 1
    assert "'by-channel'" in problems[0] and "'by-kind'" in problems[0] and "overlap" in problems[0]
    assert "channel=12345 kind=complaint" in problems[0]


def test_rows_of_equal_specificity_that_cannot_meet_are_fine() -> None:
    # Same specificity but disjoint: urgent=true vs urgent=false never match the same ticket.
    PolicySet.from_rows([*FALLBACKS, row("u", kind="help", urgent=True), row("n", kind="help", urgent=False)])
    # Different clocks never compete.
    PolicySet.from_rows([*FALLBACKS, row("r", channel="12345"), row("s", "sign", kind="complaint")])


def test_exact_duplicates_and_duplicate_ids_are_refused() -> None:
    problems = problems_of([*FALLBACKS, row("a", kind="help", limit=10), row("b", kind="help", limit=5)])
    assert any("'a'" in p and "'b'" in p and "exact duplicates" in p for p in problems)
    problems = problems_of([*FALLBACKS, row("reply-all", kind="help")])
    assert any("row id 'reply-all' is used by rows #2 and #4" in p for p in problems)


def test_malformed_rows_are_all_reported_with_their_ids() -> None:
    problems = problems_of(
        [
            *FALLBACKS,
            row("bad-unit", kind="help", unit="days"),
            row("negative", kind="report", limit=-1),
            row("bad-clock", clock="close"),
            row("bad-urgent", kind="praise", urgent="yes"),
            row("bool-limit", kind="suggestion", limit=True),
            {"id": "missing-unit", "clock": "reply", "channel": "*", "kind": "complaint", "urgent": "*", "limit": 1},
            row("typo", kind="consultation", warn_ratio=0.5),
            row("bad-ratio", channel="web", warning_ratio=1.5),
        ]
    )
    text = "\n".join(problems)
    assert "row 'bad-unit' (#4): unit 'days' is not one of" in text
    assert "row 'negative' (#5): limit -1 must be a positive number" in text
    assert "row 'bad-clock' (#6): clock 'close' is not one of" in text
    assert "row 'bad-urgent' (#7): urgent 'yes' must be true, false or '*'" in text
    assert "row 'bool-limit' (#8): limit True must be a positive number" in text
    assert "row 'missing-unit' (#9): missing ['unit']" in text
    assert "row 'typo' (#10): unknown keys ['warn_ratio']" in text
    assert "row 'bad-ratio' (#11): warning_ratio 1.5 must be a number in (0, 1)" in text


def test_unknown_codes_are_refused_when_the_lists_are_given() -> None:
    problems = problems_of([*FALLBACKS, row("r", channel="12580")], channels=CHANNELS, kinds=KINDS)
    assert any("row 'r' (#4): unknown channel '12580'" in p for p in problems)


def test_incomplete_set_with_code_lists_names_the_gaps() -> None:
    doc = shipped()
    rows = [r for r in doc["policy"] if r["id"] not in ("reply-praise", "reply-default")]
    problems = problems_of(rows, channels=CHANNELS, kinds=KINDS)
    assert len(problems) == 1
    assert "incomplete" in problems[0]
    assert "clock=reply channel=12319 kind=praise urgent=false" in problems[0]
    assert "kind=praise urgent=true" not in problems[0]  # the urgent row covers it


def test_incomplete_set_without_code_lists_needs_a_fallback_per_clock() -> None:
    rows = [FALLBACKS[0], FALLBACKS[2], row("reply-help", kind="help")]
    problems = problems_of(rows)
    assert "clock=reply channel=(any other) kind=(any other) urgent=false" in problems[0]
    assert "all-wildcard fallback" in problems[0]
    # A pair urgent=true / urgent=false of wildcards is a complete fallback too.
    PolicySet.from_rows([FALLBACKS[0], FALLBACKS[2], row("u", urgent=True), row("n", urgent=False)])


def test_config_format_errors() -> None:
    with pytest.raises(PolicyError, match="unknown keys \\['policies'\\]"):
        PolicySet.from_config({"policies": []})
    with pytest.raises(PolicyError, match="defaults: warning_ratio 0 must be a number in \\(0, 1\\)"):
        PolicySet.from_config({"defaults": {"warning_ratio": 0}, "policy": FALLBACKS})


def test_limits_past_what_the_arithmetic_covers_are_refused() -> None:
    """A policy recompute (PUT /api/admin/sla-policies) is an entry point too: a limit of a billion working days
    would put every deadline past the working-day horizon, so the set is refused at load, naming the row."""
    for unit, limit in (("working_days", 251), ("working_hours", 2001), ("hours", 8785), ("minutes", 527041)):
        with pytest.raises(PolicyError, match=f"reply-all.*limit {limit} is more than"):
            PolicySet.from_rows([FALLBACKS[0], row("reply-all", limit=limit, unit=unit), FALLBACKS[2]])
    with pytest.raises(PolicyError, match="supervision_after_working_days 61"):
        PolicySet.from_rows([FALLBACKS[0], row("reply-all", supervision_after_working_days=61), FALLBACKS[2]])
    PolicySet.from_rows([FALLBACKS[0], row("reply-all", limit=250), FALLBACKS[2]])


def test_each_problem_says_which_rows_it_is_about_by_position() -> None:
    """Callers name the offending rows from `PolicyError.rows` (positions, 1 for the first), never from the wording;
    a row refused on its own counts in the positions of the rows after it."""
    rows = [
        *FALLBACKS,  # 1-3
        row("bad", limit=-1),  # 4: refused on its own
        row("twice", kind="help"),  # 5
        row("twice", kind="report"),  # 6: the same id as 5
        row("a", channel="12345", kind="help"),  # 7
        row("b", channel="12345", kind="help"),  # 8: an exact duplicate of 7
    ]
    with pytest.raises(PolicyError) as refused:
        PolicySet.from_rows(rows)
    about = dict(zip(refused.value.problems, refused.value.rows, strict=True))
    assert sorted(about.values()) == [(4,), (5, 6), (7, 8)], about
    assert any("#5 and #6" in problem for problem in about)
    with pytest.raises(PolicyError) as gap:
        PolicySet.from_rows(FALLBACKS[:2])  # no callback row: a problem of the whole set
    assert gap.value.rows == ((),) * len(gap.value.problems)


# ---- the optional dispatch clock (派单时限) ------------------------------------------------------------------


def test_the_shipped_dispatch_rows_time_a_wait_two_working_hours_and_an_urgent_one_fifteen_minutes() -> None:
    ps = PolicySet.from_config(shipped(), channels=CHANNELS, kinds=KINDS)
    assert ps.times("dispatch")
    ordinary, urgent = ps.select("dispatch", "96196", "complaint", False), ps.select("dispatch", "12345", "help", True)
    assert (ordinary.limit, ordinary.unit) == (2, "working_hours")
    assert (urgent.limit, urgent.unit) == (15, "minutes")


def test_a_set_without_dispatch_rows_is_valid_and_times_no_wait() -> None:
    ps = PolicySet.from_rows(FALLBACKS)
    assert not ps.times("dispatch") and ps.times("reply")
    with pytest.raises(PolicyError, match="no policy row matches clock=dispatch"):
        ps.select("dispatch", "96196", "complaint", False)


def test_a_set_with_some_dispatch_rows_must_cover_every_ticket() -> None:
    with pytest.raises(PolicyError, match="clock=dispatch channel=\\(any other\\) kind=\\(any other\\) urgent=false"):
        PolicySet.from_rows([*FALLBACKS, row("dispatch-urgent", "dispatch", urgent=True, limit=15, unit="minutes")])
    PolicySet.from_rows([*FALLBACKS, row("dispatch-all", "dispatch", limit=2, unit="working_hours")])

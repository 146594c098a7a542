"""The typed shapes of the reports and escalations say what the services count and compute: the same metric
names in the same order, the same groupings, levels and clocks."""

from __future__ import annotations

from typing import get_args

import msgspec

from hotline import reports
from hotline.escalation import open_steps
from hotline.reports import shapes


def test_the_figures_are_the_metrics_in_contract_order():
    assert shapes.ClosureFigures.__struct_fields__ == reports.METRICS
    # A row keeps the order of the JSON the console and the tests read: group, group_name, then the metrics.
    assert shapes.ClosureRow.__struct_fields__ == ("group", "group_name", *reports.METRICS)
    figures = {f.name: f.type for f in msgspec.structs.fields(shapes.ClosureFigures)}
    assert {f.name: f.type for f in msgspec.structs.fields(shapes.ClosureRow)[2:]} == figures
    assert set(shapes.DigestUnitRow.__struct_fields__) == {"unit", "unit_name", *reports.METRICS}
    assert set(reports.empty_metrics()) == set(reports.METRICS)


def test_the_closed_vocabularies_match_the_services():
    assert get_args(shapes.Group) == reports.GROUPS
    assert set(get_args(shapes.FileFormat)) == set(reports.FORMATS) - {"json"}
    assert get_args(open_steps.Level) == open_steps.LEVELS


def test_from_is_named_from_in_json():
    figures = msgspec.convert(reports.empty_metrics(), shapes.ClosureFigures)
    report = shapes.ClosureReport(
        from_="2033-05-09T00:00:00+08:00",
        to="2033-05-14T00:00:00+08:00",
        as_of="2033-05-20T04:00:00+00:00",
        group_by="unit",
        unit=None,
        metrics=list(reports.METRICS),
        rows=[],
        totals=figures,
    )
    encoded = msgspec.json.decode(msgspec.json.encode(report))
    assert encoded["from"] == "2033-05-09T00:00:00+08:00" and "from_" not in encoded
    assert encoded["totals"]["closure_rate"] is None and encoded["totals"]["received"] == 0

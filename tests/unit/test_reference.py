"""Reference data files load, and invalid ones are refused with errors naming the entry."""

import copy
import tomllib

import pytest

from config.reference import DATA_DIR, ConfigError, load_reference, parse_reference


def _data() -> dict:
    with (DATA_DIR / "reference.toml").open("rb") as fh:
        return tomllib.load(fh)


def test_shipped_reference_loads_with_demo_contract():
    ref = load_reference()
    assert set(ref.channels) == {"96196", "12345", "12328", "12319", "web"}
    assert set(ref.territories) == {"320600", "320613", "320612", "320614", "320623", "320681", "320682", "320685"}
    assert len(ref.categories) == 14 and len(ref.kinds) == 6
    assert "320612-bureau" in ref.units and ref.units["city-taxi"].name == "市客运出租汽车管理处"
    names = {a.username for a in ref.accounts}
    assert {
        "agent",
        "dispatcher",
        "manager",
        "admin",
        "integration-12345",
        "integration-12328",
        "integration-12319",
        "handler-city-office",
        "handler-320685-bureau",
    } <= names
    assert sum(1 for a in ref.accounts if a.role == "handler") == len(ref.units)


def test_unknown_unit_in_rule_is_refused_naming_the_rule():
    data = _data()
    data["rule"][0]["unit"] = "city-nowhere"
    with pytest.raises(ConfigError, match=r"rule #1: unknown unit 'city-nowhere'"):
        parse_reference(data)


def test_overlapping_rules_are_refused_naming_both():
    data = _data()
    data["rule"].append(copy.deepcopy(data["rule"][6]))  # taxi in 320613 again
    with pytest.raises(ConfigError, match=r"rule #26: overlaps rule #7"):
        parse_reference(data)


def test_unknown_territory_in_rule_is_refused():
    data = _data()
    data["rule"][0]["territory"] = "110101"
    with pytest.raises(ConfigError, match=r"rule #1: unknown territory '110101'"):
        parse_reference(data)


def test_bureau_template_needs_a_bureau_for_every_territory_it_covers():
    data = _data()
    data["unit"] = [u for u in data["unit"] if u["code"] != "320685-bureau"]
    with pytest.raises(ConfigError, match=r"territory 320685 to unknown unit '320685-bureau'"):
        parse_reference(data)


def test_unknown_category_and_bad_codes_are_refused():
    data = _data()
    data["rule"][0]["category"] = "spaceship"
    with pytest.raises(ConfigError, match="unknown category 'spaceship'"):
        parse_reference(data)
    data = _data()
    data["territory"][0]["code"] = "3206"
    with pytest.raises(ConfigError, match="not a 6-digit"):
        parse_reference(data)


def test_account_validation():
    ref_data = _data()
    with pytest.raises(ConfigError, match="a handler needs a known unit"):
        parse_reference(ref_data, {"account": [{"username": "h", "role": "handler", "unit": "nope"}]})
    with pytest.raises(ConfigError, match="unknown role"):
        parse_reference(ref_data, {"account": [{"username": "x", "role": "king"}]})


def test_office_hours_come_from_calendar_toml_with_the_default_when_absent(tmp_path):
    import sla
    from config.reference import DEFAULT_OFFICE_HOURS, ConfigError, load_calendar_config

    (tmp_path / "calendar.toml").write_text("format = 1\n", encoding="utf-8")
    overrides, hours = load_calendar_config(tmp_path)
    assert hours == DEFAULT_OFFICE_HOURS and overrides == {"format": 1}
    (tmp_path / "calendar.toml").write_text(
        'format = 1\noffice_hours = [["09:00", "12:00"], ["14:00", "18:00"]]\n', encoding="utf-8"
    )
    overrides, hours = load_calendar_config(tmp_path)
    assert hours == (("09:00", "12:00"), ("14:00", "18:00")) and "office_hours" not in overrides
    cal = sla.build_calendar(overrides, office_hours=hours)
    from datetime import datetime
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Shanghai")
    # Wed 2026-11-04 08:45 is before opening on this timetable: the next working moment is 09:00.
    assert sla.next_working_moment(cal, datetime(2026, 11, 4, 8, 45, tzinfo=tz)) == datetime(
        2026, 11, 4, 9, 0, tzinfo=tz
    )
    (tmp_path / "calendar.toml").write_text('format = 1\noffice_hours = "08:30-17:30"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="office_hours"):
        load_calendar_config(tmp_path)


def test_a_policy_row_reads_in_chinese_with_wildcards_as_any():
    from hotline.web.console.labels import policy_text

    kinds = load_reference().kinds
    assert (
        policy_text({"clock": "reply", "channel": "*", "kind": "complaint", "urgent": False}, kinds)
        == "办结时限，各渠道，投诉类，非紧急件"
    )
    assert (
        policy_text({"clock": "sign", "channel": "12345", "kind": "*", "urgent": "*"}, kinds)
        == "签收时限，12345渠道，各类诉求，不分缓急"
    )

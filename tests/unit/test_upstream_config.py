"""config/data/upstream.toml: what it may hold (the NAME of the auth variable, never a secret), defaults per channel,
refusals naming the entry; and the backoff's growth, cap and jitter."""

from __future__ import annotations

from datetime import timedelta

import pytest

from config.reference import ConfigError
from config.upstream import EVENTS, load_upstream, parse_upstream
from hotline.upstream.delivery import backoff

CHANNEL = {"url": "https://12345.example/feedback", "auth_env": "UPSTREAM_AUTH"}


def test_the_shipped_file_names_every_transfer_channel_and_sends_nothing_until_enabled() -> None:
    config = load_upstream()
    assert set(config.channels) == {"12345", "12328", "12319"}
    assert not any(up.enabled for up in config.channels.values())
    assert not config.sends("12345", "replied")
    assert all(up.auth_env and up.auth_env.startswith("HOTLINE_UPSTREAM_") for up in config.channels.values())


def test_a_channel_takes_the_delivery_defaults_and_may_override_them() -> None:
    config = parse_upstream(
        {
            "delivery": {"max_attempts": 4, "timeout_seconds": 3},
            "channel": {"12345": {**CHANNEL, "events": ["replied"]}, "12328": {**CHANNEL, "max_attempts": 2}},
        }
    )
    a, b = config.channels["12345"], config.channels["12328"]
    assert (a.max_attempts, a.timeout_seconds, b.max_attempts) == (4, 3.0, 2)
    assert a.events == {"replied"} and b.events == set(EVENTS)
    assert config.sends("12345", "replied") and not config.sends("12345", "signed")
    assert not config.sends("96196", "replied")
    assert a.auth({"UPSTREAM_AUTH": "Bearer x"}) == {"Authorization": "Bearer x"}
    assert "UPSTREAM_AUTH" in str(a.auth({}))  # unset: the delivery fails saying which variable


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        ({**CHANNEL, "url": "ftp://x"}, "url"),
        ({**CHANNEL, "events": ["replied", "deleted"]}, "events"),
        ({**CHANNEL, "auth_env": "Bearer s3cr3t-token"}, "auth_env"),
        ({**CHANNEL, "token": "s3cr3t"}, "unknown keys token"),
        ({**CHANNEL, "max_attempts": 0}, "max_attempts"),
        ({**CHANNEL, "enabled": "yes"}, "enabled"),
    ],
)
def test_a_bad_entry_is_refused_naming_it(entry: dict, says: str) -> None:
    with pytest.raises(ConfigError, match=says) as err:
        parse_upstream({"channel": {"12345": entry}})
    assert '[channel."12345"]' in str(err.value)


def test_backoff_doubles_up_to_its_cap_with_half_of_it_random() -> None:
    up = parse_upstream({"channel": {"12345": {**CHANNEL, "backoff_base_seconds": 10, "backoff_cap_seconds": 60}}})
    c = up.channels["12345"]
    assert [backoff(c, n, rand=lambda: 1.0) for n in (1, 2, 3, 4, 5)] == [
        timedelta(seconds=s) for s in (10, 20, 40, 60, 60)
    ]
    assert backoff(c, 2, rand=lambda: 0.0) == timedelta(seconds=10)

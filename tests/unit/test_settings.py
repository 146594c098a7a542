"""Settings from the environment: one typed object, with clear errors."""

from __future__ import annotations

import os

import pytest

from config.settings import Settings


def test_settings_come_from_the_environment_with_defaults() -> None:
    s = Settings.from_env({"HOTLINE_DB_POOL_MAX": "7", "HOTLINE_WEB_WORKERS": "3", "HOTLINE_LOG_LEVEL": "debug"})
    assert (s.db_pool_max, s.web_workers, s.log_level) == (7, 3, "DEBUG")
    default = Settings.from_env({})
    assert default.web_workers == max(1, min(os.cpu_count() or 1, 4))  # one API process per core, at most 4
    assert default.db_pool_max == 20 and default.timezone == "Asia/Shanghai"


def test_a_bad_number_names_the_variable() -> None:
    with pytest.raises(ValueError, match="HOTLINE_WEB_WORKERS must be an integer"):
        Settings.from_env({"HOTLINE_WEB_WORKERS": "two"})


def test_trusted_proxies_are_networks_and_a_typo_is_refused_by_name() -> None:
    s = Settings.from_env({"HOTLINE_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.7,::1"})
    assert s.trusted_proxies == ("10.0.0.0/8", "192.168.1.7/32", "::1/128")
    assert Settings.from_env({}).trusted_proxies == ()
    with pytest.raises(ValueError, match="HOTLINE_TRUSTED_PROXIES: '10.0.0.300' is not"):
        Settings.from_env({"HOTLINE_TRUSTED_PROXIES": "10.0.0.300"})


def test_the_development_key_is_refused_outside_development() -> None:
    from config.settings import DEV_SECRET, InsecureSecretKey, require_secret_key

    for env in ({}, {"HOTLINE_SECRET_KEY": DEV_SECRET}, {"HOTLINE_SECRET_KEY": " "}, {"HOTLINE_ENV": "production"}):
        with pytest.raises(InsecureSecretKey, match="HOTLINE_SECRET_KEY is not set"):
            require_secret_key(Settings.from_env(env))
    require_secret_key(Settings.from_env({"HOTLINE_ENV": "development"}))  # `make run`, the tests
    require_secret_key(Settings.from_env({"HOTLINE_SECRET_KEY": "a-key-of-this-install-only-0123456789"}))


def test_the_app_is_not_built_with_the_development_key_outside_development() -> None:
    from config.settings import InsecureSecretKey
    from hotline.web.app import create_app

    with pytest.raises(InsecureSecretKey):
        create_app(Settings.from_env({}))
    assert create_app(Settings.from_env({"HOTLINE_SECRET_KEY": "a-key-of-this-install-only-0123456789"}))


def test_a_runtime_url_is_read_from_the_environment() -> None:
    url = "postgresql://hotline_svc:pw@db.internal:5432/hotline"
    assert Settings.from_env({"HOTLINE_DATABASE_RUNTIME_URL": url}).database_runtime_url == url
    assert Settings.from_env({}).database_runtime_url is None

"""The loader of statements kept as .sql files beside their modules."""

from pathlib import Path

import pytest

from hotline.infra.sql import load


def _module(tmp_path: Path, name: str, text: str) -> str:
    (tmp_path / "sql").mkdir(exist_ok=True)
    (tmp_path / "sql" / f"{name}.sql").write_text(text, encoding="utf-8")
    module = tmp_path / "mod.py"
    module.write_text("", encoding="utf-8")
    return str(module)


def test_reads_the_statement_beside_the_module(tmp_path):
    anchor = _module(
        tmp_path, "one", "-- What it is.\n-- $1: id\nSELECT $1::int -- the id\n  -- kept inside\nFROM x\n\n"
    )
    # The header is for the reader; the server gets the statement (pg_stat_activity shows its first kilobyte).
    assert load(anchor, "one") == "SELECT $1::int -- the id\n  -- kept inside\nFROM x"


def test_reads_each_file_once(tmp_path):
    anchor = _module(tmp_path, "twice", "SELECT 1")
    first = load(anchor, "twice")
    (tmp_path / "sql" / "twice.sql").write_text("SELECT 2", encoding="utf-8")
    assert load(anchor, "twice") == first == "SELECT 1"


@pytest.mark.parametrize("name", ["", "../etc", "a/b", ".hidden"])
def test_refuses_names_that_leave_the_folder(tmp_path, name):
    with pytest.raises(ValueError):
        load(str(tmp_path / "mod.py"), name)


@pytest.mark.parametrize("text", ["  \n", "-- only a header\n-- $1: nothing\n"])
def test_refuses_an_empty_file(tmp_path, text):
    anchor = _module(tmp_path, "empty", text)
    with pytest.raises(ValueError):
        load(anchor, "empty")


def test_a_missing_statement_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(str(tmp_path / "mod.py"), "absent")

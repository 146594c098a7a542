"""A client for integrators, generated from the document (issue 13, item 6 and "How it is checked"):
openapi-python-client turns /schema/openapi.json as a real `hotline serve` serves it into a Python package, without
a warning (a schema it cannot read is a part of the API the client would miss); mypy --strict finds the package well
typed; imported, it signs in as the agent, takes a 96196 phone call and reads the ticket back with its timeline.

Which module to call is found the way an integrator would, from the document: an operation's tag and id name its
module (`api/<tag>/<operation_id>.py`); the model of its body is what that module's function takes.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import typing
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import PASSWORD, ticket_body
from tests.served import served_api

BIN = Path(sys.executable).parent
PACKAGE = "hotline_client"


@pytest.fixture
async def served(settings):
    async with served_api(settings, "client") as base:
        yield base


def _generate(document: Path, out: Path) -> subprocess.CompletedProcess[str]:
    config = out.parent / "generator.yaml"
    config.write_text(f"package_name_override: {PACKAGE}\nproject_name_override: hotline-client\n")
    # Its post hooks run ruff from PATH: the venv's.
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(
        [
            str(BIN / "openapi-python-client"),
            "generate",
            "--path",
            str(document),
            "--meta",
            "none",
            "--config",
            str(config),
            "--output-path",
            str(out / PACKAGE),
            "--fail-on-warning",
        ],
        cwd=out,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _typecheck(out: Path) -> subprocess.CompletedProcess[str]:
    """mypy --strict on the generated package alone (a config of its own, not the project's). One allowance: the
    generator's fixed client.py (the same for every document) forwards `*args: object` to httpx's typed `__exit__`,
    which mypy 2 refuses as arg-type; everything generated from the document is held to --strict."""
    config = out.parent / "mypy.ini"
    config.write_text(f"[mypy]\n[mypy-{PACKAGE}.client]\ndisable_error_code = arg-type\n")
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--config-file",
            str(config),
            "--cache-dir",
            str(out.parent / ".mypy_cache"),
            PACKAGE,
        ],
        cwd=out,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _operation(doc: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    op = doc["paths"][path][method]
    assert op.get("operationId") and op.get("tags"), f"{method.upper()} {path}: no operation id or tag"
    return op


def _module(doc: dict[str, Any], method: str, path: str) -> Any:
    from openapi_python_client.strings import snake_case

    op = _operation(doc, method, path)
    return importlib.import_module(f"{PACKAGE}.api.{snake_case(op['tags'][0])}.{snake_case(op['operationId'])}")


def _body_model(module: Any) -> Any:
    """The model an operation's generated function takes as its body, as its signature says."""
    return typing.get_type_hints(module.sync_detailed)["body"]


def test_a_generated_client_type_checks_and_takes_and_reads_a_ticket(served, tmp_path, monkeypatch):
    doc = httpx.get(f"{served}/schema/openapi.json", timeout=10).json()
    document = tmp_path / "openapi.json"
    document.write_text(json.dumps(doc, ensure_ascii=False))
    out = tmp_path / "client"
    out.mkdir()

    generated = _generate(document, out)
    assert generated.returncode == 0, f"the generator warned or failed:\n{generated.stdout[-6000:]}{generated.stderr}"
    checked = _typecheck(out)
    assert checked.returncode == 0, f"mypy on the generated client:\n{checked.stdout[-6000:]}{checked.stderr}"

    monkeypatch.syspath_prepend(str(out))
    client_module = importlib.import_module(PACKAGE)
    issue_token = _module(doc, "post", "/api/auth/token")
    create_ticket = _module(doc, "post", "/api/tickets")
    get_ticket = _module(doc, "get", "/api/tickets/{number}")
    credentials = _body_model(issue_token)
    ticket_in = _body_model(create_ticket)

    with client_module.Client(base_url=served, raise_on_unexpected_status=True) as anonymous:
        token = issue_token.sync(client=anonymous, body=credentials(username="agent", password=PASSWORD))
    assert token.token_type == "bearer" and token.role == "agent"

    call = ticket_body(kind="complaint", category="taxi", territory="320612")
    assert call["channel"] == "96196"
    with client_module.AuthenticatedClient(
        base_url=served, token=token.access_token, raise_on_unexpected_status=True
    ) as client:
        created = create_ticket.sync_detailed(client=client, body=ticket_in.from_dict(call))
        assert created.status_code == 201, created.content
        ticket = created.parsed
        assert ticket.channel == "96196" and ticket.kind == "complaint" and ticket.category == "taxi"
        assert ticket.status == "dispatched" and ticket.unit == "320612-bureau", ticket.to_dict()
        assert ticket.deadlines.sign is not None and ticket.deadlines.reply is not None

        read = get_ticket.sync(number=ticket.number, client=client)
    assert read.number == ticket.number and read.version == ticket.version and read.status == ticket.status
    assert read.created_at == ticket.created_at and read.deadlines.to_dict() == ticket.deadlines.to_dict()
    assert [e.action for e in read.events][:1] == ["create"], [e.to_dict() for e in read.events]
    # The models read every key the service sent as a declared field: none is left to `additional_properties`.
    raw = httpx.get(
        f"{served}/api/tickets/{ticket.number}", headers={"Authorization": f"Bearer {token.access_token}"}, timeout=10
    ).json()
    assert set(read.to_dict()) == set(raw) and not read.additional_properties, read.additional_properties

"""`make run` (`hotline dev`) as a developer uses it: Ctrl-C stops the API and the worker within 10 s, every process
they started included, and the terminal shows one log format (issue 23, item 11)."""

from __future__ import annotations

import asyncio
import json
import os
import pty
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from hotline.infra import db
from tests.integration.test_cli import _operator_env
from tests.polling import eventually
from tests.scratch import free_port, scratch_database

HOTLINE = str(Path(sys.executable).with_name("hotline"))
STOPPED_WITHIN = 10.0
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# structlog's console renderer: "2026-12-04T01:21:49.636245Z [info     ] event   key=value"
CONSOLE_LINE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d+Z \[(debug|info|warning|error|critical) *\] +\S")


def _descendants(root: int) -> set[int]:
    """Every process below `root`, read from /proc (children of children too: uvicorn's worker processes)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        kids = {p for p, ppid in parents.items() if ppid == pid}
        found |= kids
        todo.extend(kids)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


class Output:
    """What `hotline dev` writes, to a file (not a terminal) or through a pseudo-terminal, gathered as it comes."""

    def __init__(self, tty: bool, path: Path) -> None:
        self.tty, self.path, self.chunks = tty, path, bytearray()
        self._master = -1
        self._reader: threading.Thread | None = None

    def streams(self) -> int:
        if not self.tty:
            return os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        self._master, slave = pty.openpty()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        return slave

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self._master, 65536)
            except OSError:  # EIO: every writer has closed the terminal
                return
            if not data:
                return
            self.chunks.extend(data)

    def text(self) -> str:
        raw = bytes(self.chunks) if self.tty else self.path.read_bytes()
        return ANSI.sub("", raw.decode("utf-8", "replace")).replace("\r\n", "\n")

    def close(self) -> None:
        if self._reader is not None:
            self._reader.join(timeout=5)
            os.close(self._master)


def _spawn_dev(port: int, env: dict[str, str], fd: int, *, ignore_sigint: bool) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [HOTLINE, "dev", "--demo-tickets", "0", "--port", str(port)],
        env=env,
        stdout=fd,
        stderr=fd,
        start_new_session=True,  # its own process group, as a terminal's foreground job
        preexec_fn=_ignore_sigint if ignore_sigint else None,
    )


def _seconds_until_gone(proc: subprocess.Popen[bytes], children: set[int], limit: float = 30) -> float:
    """How long `hotline dev` and every process below it took to end (at most `limit`: a hang guard)."""
    started = time.monotonic()
    while (proc.poll() is None or any(_alive(p) for p in children)) and time.monotonic() - started < limit:
        time.sleep(0.05)
    return time.monotonic() - started


def _events(text: str, tty: bool) -> list[str]:
    """Every line's event, each line checked to be of the one format: the console renderer's, or a JSON object."""
    events = []
    for line in (line for line in text.split("\n") if line.strip()):
        if tty:
            assert CONSOLE_LINE.match(line), line
            events.append(line.split("] ", 1)[1].split()[0])
        else:
            record = json.loads(line)  # nothing printed bare
            assert {"event", "level", "timestamp"} <= set(record), line
            events.append(record["event"])
    return events


def _ignore_sigint() -> None:  # a script's `hotline dev &` without job control: SIGINT arrives ignored
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize("tty", [False, True], ids=["piped-json", "terminal-console"])
async def test_ctrl_c_stops_the_api_and_the_worker_within_10_s_and_the_output_has_one_format(
    settings, database, tmp_path, tty
):
    async with scratch_database(database, "clictrlc") as url:
        await db.drop_database(url)  # from nothing, as on a fresh machine: `hotline dev` migrates it
        env = _operator_env(url, settings.redis_url, HOTLINE_LOG_LEVEL="INFO", HOTLINE_WEB_WORKERS="2")
        port, out = free_port(), Output(tty, tmp_path / "dev.log")
        fd = out.streams()
        proc = _spawn_dev(port, env, fd, ignore_sigint=not tty)
        os.close(fd)
        base = f"http://127.0.0.1:{port}"
        feed: asyncio.Task[None] | None = None
        children: set[int] = set()
        try:
            async with httpx.AsyncClient(base_url=base, timeout=5) as client:

                async def ready() -> bool:
                    if proc.poll() is not None:
                        raise AssertionError(f"hotline dev exited with {proc.returncode}:\n{out.text()[-3000:]}")
                    live = (await client.get("/readyz")).status_code == 200
                    return live and "worker_started" in out.text()

                await eventually(ready, what=lambda: out.text()[-3000:], every=0.3, tolerate=(httpx.HTTPError,))
                if not tty:  # a browser tab's live feed: a request that never ends by itself
                    r = await client.post("/api/auth/token", json={"username": "manager", "password": "pw"})
                    token = r.json()["access_token"]
                    opened = asyncio.Event()

                    async def listen() -> None:
                        headers = {"Authorization": f"Bearer {token}"}
                        async with httpx.AsyncClient(base_url=base, timeout=None) as c:
                            async with c.stream("GET", "/api/live", headers=headers) as stream:
                                async for _ in stream.aiter_lines():
                                    opened.set()

                    feed = asyncio.ensure_future(listen())
                    await asyncio.wait_for(opened.wait(), 30)
            children = _descendants(proc.pid)
            assert len(children) >= 4, children  # the API's supervisor and its 2 workers, the arq worker
            os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C: the terminal signals the foreground process group
            took = await asyncio.to_thread(_seconds_until_gone, proc, children)
            assert not [p for p in children if _alive(p)] and proc.poll() is not None, out.text()[-3000:]
            assert took < STOPPED_WITHIN, f"stopped in {took:.1f} s:\n{out.text()[-3000:]}"
            print(f"hotline dev and its {len(children)} processes stopped {took:.2f} s after Ctrl-C")
        finally:
            if feed is not None:
                feed.cancel()
                await asyncio.gather(feed, return_exceptions=True)
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
            for pid in children:  # never left behind when the test fails
                if _alive(pid):
                    os.kill(pid, signal.SIGKILL)
            out.close()
        events = _events(out.text(), tty)
        for event in ("dev_migrated", "dev_seeded", "worker_started", "dev_stopping", "worker_stopped", "dev_stopped"):
            assert event in events, (event, events)

"""The runtime owns the process's parts (issue 14): one ticket writer and one announcer per runtime, made on first
use and closed with it (what the announcer still holds is sent first), instead of module-wide registries."""

from __future__ import annotations

from hotline.infra.runtime import Runtime
from hotline.tickets import announcer, intake
from hotline.tickets import writer as intake_writer


async def test_each_runtime_has_one_writer_and_one_announcer_closed_with_it(runtime, settings):
    other = await Runtime.start(settings)
    try:
        assert intake_writer.writer_for(other) is intake_writer.writer_for(other)
        assert intake_writer.writer_for(other) is not intake_writer.writer_for(runtime)
        assert intake_writer.writer_for(other).pool is other.pool
        queue = announcer._announcer(other)
        assert queue is announcer._announcer(other) and queue is not announcer._announcer(runtime)
        async with runtime.redis.pubsub() as sub:
            await sub.subscribe("hotline:live")
            await sub.get_message(timeout=1)  # the subscription's confirmation
            announcer.announce(other, intake.IntakeResult(0, True, [], None), "test-runtime-parts")
            assert queue._pending or queue._task is not None
            await other.close()  # sends what is queued before the pools and Redis close
            message = None
            for _ in range(20):
                message = await sub.get_message(timeout=0.5)
                if message and message.get("type") == "message":
                    break
            assert message is not None and b"test-runtime-parts" in message["data"]
        assert other._parts == {} and not queue._pending
    finally:
        if other._parts:
            await other.close()

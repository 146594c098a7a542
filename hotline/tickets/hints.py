"""Agent aids while logging a call: the caller's earlier tickets and likely duplicates.

Chinese text has no word boundaries, so full-text search by words finds little; trigram similarity (pg_trgm) works
on CJK characters and is served by the GIN index on title || content. A vehicle plate (苏F12345) or the same phone
number in the last 30 days is a strong signal on its own.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from hotline.auth.tokens import Principal
from hotline.errors import InvalidInput
from hotline.infra.runtime import Runtime
from hotline.infra.sql import load
from hotline.tickets import queries as ticket_service
from hotline.tickets import shapes
from hotline.vocab import CALLBACK_ROLES

PLATE = re.compile(
    r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼使领][A-Z][A-Z0-9]{4,5}[A-Z0-9挂学警港澳]?"
)
WINDOW = timedelta(days=30)
MIN_SIMILARITY = 0.08
DUPLICATES_SQL = load(__file__, "duplicates").replace("{ticket_columns}", ticket_service.TICKET_COLUMNS)


def plates(text: str) -> list[str]:
    return sorted(set(PLATE.findall(text.upper())))


async def hints(
    rt: Runtime,
    principal: Principal,
    *,
    phone: str | None,
    category: str | None,
    territory: str | None,
    text: str | None,
    now: datetime | None = None,
) -> shapes.Hints:
    principal.require(*sorted(CALLBACK_ROLES))
    now = now or datetime.now(UTC)
    phone = (phone or "").replace(" ", "").replace("-", "") or None
    text = (text or "").strip()[:2000] or None
    if phone is not None and not phone.lstrip("+").isdigit():
        raise InvalidInput("phone must be digits", fields={"phone": "digits only"})
    found_plates = plates(text) if text else []
    async with rt.pool.acquire() as conn:
        earlier = []
        if phone:
            earlier = await conn.fetch(
                f"SELECT {ticket_service.TICKET_COLUMNS} FROM tickets t WHERE t.caller_phone = $1 "
                "ORDER BY t.created_at DESC LIMIT 10",
                phone,
            )
        duplicates = []
        if phone or text:
            duplicates = await _duplicates(conn, phone, category, territory, text, found_plates, now)
    earlier_json = [ticket_service.serialize(r, principal, rt) for r in earlier]
    dup_json: list[Any] = [
        ticket_service.serialize(
            r,
            principal,
            rt,
            similarity=round(float(r["similarity"]), 3),
            reasons=[
                reason
                for reason, hit in (
                    ("same_phone", r["same_phone"]),
                    ("same_plate", r["same_plate"]),
                    ("similar_text", r["similarity"] >= MIN_SIMILARITY),
                )
                if hit
            ],
        )
        for r in duplicates
    ]
    return shapes.Hints(earlier_json, dup_json, found_plates)  # serialize() with extra fields: DuplicateTicket


async def _duplicates(
    conn: Any,
    phone: str | None,
    category: str | None,
    territory: str | None,
    text: str | None,
    found_plates: list[str],
    now: datetime,
) -> list[Any]:
    """Open tickets of the last 30 days: same phone, a shared plate, or similar text in the same category and
    territory. Ranked by those signals, then similarity."""
    async with conn.transaction():
        # `%` uses the trigram GIN index; its threshold is a setting, lowered for short Chinese texts.
        await conn.execute(f"SET LOCAL pg_trgm.similarity_threshold = {MIN_SIMILARITY}")
        return await conn.fetch(
            DUPLICATES_SQL, phone, category, territory, text, found_plates, now - WINDOW, MIN_SIMILARITY
        )

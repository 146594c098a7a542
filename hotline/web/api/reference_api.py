"""Reference data for pickers: channels, territories, categories, kinds, units."""

from __future__ import annotations

from typing import Literal, cast

import msgspec
from litestar import get
from litestar.di import NamedDependency

from hotline.admin import units as unit_service
from hotline.auth.tokens import Principal
from hotline.infra.runtime import Runtime
from hotline.web.contract import operation


class Coded(msgspec.Struct, kw_only=True):
    """A code and its display name (territories by GB/T 2260 code, categories, kinds)."""

    code: str
    name: str


ChannelKind = Literal["phone", "transfer", "web"]  # channels_kind_check


class ReferenceChannel(Coded, kw_only=True):
    """An intake channel: a phone line (96196), a transfer from another hotline (12345, 12328, 12319), the web."""

    kind: ChannelKind | None


class ReferenceUnit(Coded, kw_only=True):
    """An active handling unit (承办单位), with the territory it belongs to (null for a city department)."""

    territory: str | None


class Reference(msgspec.Struct, kw_only=True):
    channels: list[ReferenceChannel]
    territories: list[Coded]
    categories: list[Coded]
    kinds: list[Coded]
    units: list[ReferenceUnit]


@get(
    "/api/reference",
    **operation(
        "getReference",
        "reference",
        summary="Reference data: channels, territories, categories, kinds and active units",
    ),
)
async def reference(rt: NamedDependency[Runtime], principal: NamedDependency[Principal]) -> Reference:
    n = rt.names
    units = await unit_service.active(rt)
    return Reference(
        channels=[
            ReferenceChannel(code=c, name=name, kind=cast(ChannelKind | None, n.channel_kinds.get(c)))
            for c, name in n.channels.items()
        ],
        territories=[Coded(code=c, name=name) for c, name in sorted(n.territories.items())],
        categories=[Coded(code=c, name=name) for c, name in n.categories.items()],
        kinds=[Coded(code=c, name=name) for c, name in n.kinds.items()],
        units=[ReferenceUnit(code=u["code"], name=u["name"], territory=u["territory"]) for u in units],
    )


ROUTES = [reference]

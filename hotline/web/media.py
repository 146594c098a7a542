"""Success responses in more than one media type, for the OpenAPI document (hotline.web.contract gives the rest of
an operation's contract).

Litestar documents a success response in the one media type it derives from the route (JSON for a typed return).
The closure report answers JSON, CSV or XLSX by its `format` parameter, and the live feed is a stream of server-sent
events: `success_media()` makes the route decorator's `operation_class`, which adds (or, with `only`, puts instead)
the media types the route really sends:

    @get("/api/live", **operation("streamLiveFeed", "ops", roles=STAFF_ROLES), operation_class=EVENTS)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, Operation, Schema


def success_media(contents: Mapping[str, Schema], *, only: bool = False) -> type[Operation]:
    """An `operation_class` whose 2xx responses are documented in these media types as well as the JSON Litestar
    derives from the return annotation (or, with `only`, in these alone)."""

    @dataclass
    class MediaOperation(Operation):
        def __post_init__(self) -> None:
            for status, response in (self.responses or {}).items():
                if status.startswith("2") and isinstance(response, OpenAPIResponse):
                    if only or response.content is None:
                        response.content = {}
                    response.content.update({media: OpenAPIMediaType(schema=s) for media, s in contents.items()})

    return MediaOperation

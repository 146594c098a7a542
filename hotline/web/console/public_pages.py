"""The citizen pages (外网受理、进程网上查) at /public/: one page, mobile first, with the web form and the progress
check. The page's script calls the public JSON endpoints (hotline/web/api/public_api.py); every asset is the
service's own.
"""

from __future__ import annotations

from typing import Any

from litestar import MediaType, Response, get
from litestar.di import NamedDependency

from hotline.infra.runtime import Runtime
from hotline.tickets import citizen
from hotline.web.console import views

# Other citizen services link from the page's header when they land (public figures, knowledge-base search):
# (path, label) pairs.
MORE_LINKS: list[tuple[str, str]] = []


def _choices(names: dict[str, str]) -> list[tuple[str, str]]:
    return list(names.items())


@get(["/public", "/public/"], include_in_schema=False)
async def public_page(rt: NamedDependency[Runtime]) -> Response[str]:
    names = rt.names
    body = views.render(
        "public/index.html",
        kinds=_choices(names.kinds),
        categories=_choices(names.categories),
        territories=_choices(names.territories),
        more_links=MORE_LINKS,
        honeypot=citizen.HONEYPOT,
    )
    # Shared caches may keep the page (nothing personal in it) only briefly: choices follow the reference data.
    return Response(body, media_type=MediaType.HTML, headers={"Cache-Control": "public, max-age=300"})


ROUTES: list[Any] = [public_page]

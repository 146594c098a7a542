"""Every handler and dependency provider declares its parameters the way Litestar 3 keeps: `NamedDependency[...]`
for `rt` and `principal`, `FromQuery` / `FromPath` / `QueryParameter(name=...)` / `HeaderParameter(name=...)` for
what the request carries. Litestar 2.25 still accepts the inferred styles with a deprecation warning; here those
warnings are errors, so an inferred parameter cannot come back."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# A fresh interpreter: `Parameter(query=...)` warns when its module is imported, which this test process may have
# done already, and the route handlers' signatures are checked when the app is built.
_BUILD = """
import warnings

from litestar.exceptions import LitestarDeprecationWarning

warnings.simplefilter("ignore")
warnings.filterwarnings("error", category=LitestarDeprecationWarning)
warnings.filterwarnings("error", message="Deprecated '(query|header|cookie)' parameter", category=DeprecationWarning)

from config.settings import Settings
from hotline.web.app import create_app

app = create_app(Settings.from_env({"HOTLINE_SECRET_KEY": "a-key-of-this-install-only-0123456789"}))
document = app.openapi_schema.to_schema()
assert document["paths"], "the document has no paths"
print(len(app.route_handler_method_map), len(document["paths"]))
"""


def test_the_app_and_its_document_are_built_without_litestar_deprecations() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _BUILD], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-4000:]
    routes, paths = map(int, done.stdout.split())
    assert routes > 40 and paths > 40  # the whole app was built, console pages and API alike

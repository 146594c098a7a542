"""The spec's XML form of an Open311 answer: `<?xml version="1.0" encoding="utf-8"?>`, no namespace, one element
per field, a list as a container of repeated items (`<services><service>…`), true/false in lower case and an empty
element for an absent value (as the spec's examples show)."""

from __future__ import annotations

import re
from typing import Any
from xml.etree import ElementTree as ET

import msgspec

# Each list field's item element, as the spec names them.
ITEM_TAGS = {
    "services": "service",
    "attributes": "attribute",
    "values": "value",
    "service_requests": "request",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
}

# Characters XML 1.0 cannot carry at all (control characters other than tab, newline and carriage return).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _fill(element: ET.Element, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            _fill(ET.SubElement(element, key), item)
    elif isinstance(value, list):
        tag = ITEM_TAGS[element.tag]
        for item in value:
            _fill(ET.SubElement(element, tag), item)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    else:
        element.text = _NOT_XML.sub("", str(value))


def render(root: str, value: Any) -> bytes:
    """`value` (a Struct, or a list of them under a container element named `root`) as the spec's XML."""
    element = ET.Element(root)
    _fill(element, msgspec.to_builtins(value))
    body: bytes = ET.tostring(element, encoding="unicode").encode("utf-8")
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body

"""One structlog configuration for the web service, the worker and the CLI.

Context (request id, job id) is bound through contextvars. Phone numbers and passwords never reach a log line:
the redaction processor masks any value under a sensitive key and any 11-digit mobile number in strings.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import IO, Any

import structlog

SENSITIVE_KEYS = {"password", "phone", "caller_phone", "authorization", "access_token", "token", "secret_key"}
_PHONE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def mask_phone(value: str | None) -> str | None:
    """138****5678 for a mobile number; shorter numbers keep only their last 4 digits."""
    if not value:
        return value
    v = value.strip()
    if len(v) >= 11:
        return v[:3] + "*" * (len(v) - 7) + v[-4:]
    return "*" * max(0, len(v) - 4) + v[-4:]


def _redact(value: Any) -> Any:
    if isinstance(value, str):
        return _PHONE.sub(r"\1****\2", value)
    if isinstance(value, dict):
        return {k: ("***" if str(k).lower() in SENSITIVE_KEYS else _redact(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_redact(v) for v in value]
    return value


def redact_processor(_logger: Any, _name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    for key in list(event_dict):
        if key.lower() in SENSITIVE_KEYS:
            event_dict[key] = "***"
        else:
            event_dict[key] = _redact(event_dict[key])
    return event_dict


_configured = False
FORMATS = ("json", "console")


def log_format_for(stream: IO[str], configured: str | None = None) -> str:
    """`console` (structlog's human renderer) or `json`: the configured HOTLINE_LOG_FORMAT if it is one of them, else
    the human renderer for a terminal and JSON for anything else (a file, a pipe, a log collector)."""
    if configured and configured.strip().lower() in FORMATS:
        return configured.strip().lower()
    try:
        return "console" if stream.isatty() else "json"
    except (AttributeError, ValueError):  # a stream without a terminal behind it, or closed
        return "json"


def configure_logging(level: str = "INFO", json: bool = True) -> None:
    global _configured
    if _configured:
        return
    _configured = True
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
        redact_processor,
    ]
    renderer: Any = structlog.processors.JSONRenderer(ensure_ascii=False) if json else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared, processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer]
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Python's warnings (printed bare to stderr otherwise) become log lines of the same format.
    logging.captureWarnings(True)
    # uvicorn's access log duplicates our canonical request line.
    logging.getLogger("uvicorn.access").disabled = True
    logging.getLogger("asyncio").setLevel(logging.WARNING)


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name)

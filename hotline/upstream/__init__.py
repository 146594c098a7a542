"""Interoperability with the upstream platforms (12345 / 12328 / 12319): the feedback outbox told back to the
platform a case came from (外网反馈), its delivery, and what the platform may do to its own transfers (recall,
urge, supplement)."""

"""The service's words, named once: a ticket's statuses and the staff roles, and the role sets the rules use.

Every module that checks a status or a role imports it from here. The schema's `users_role_check` holds the same
roles, and the console's and the citizen page's labels name every status: tests/unit/test_vocab.py keeps them equal.
"""

from __future__ import annotations

from typing import Final

# --- statuses (the lifecycle in DESIGN.md) ---------------------------------------------------------------------------
PENDING_DISPATCH: Final = "pending_dispatch"
DISPATCHED: Final = "dispatched"
IN_PROGRESS: Final = "in_progress"
RETURN_REQUESTED: Final = "return_requested"
REPLIED: Final = "replied"
CLOSED: Final = "closed"

OPEN_STATUSES: Final = (PENDING_DISPATCH, DISPATCHED, IN_PROGRESS, RETURN_REQUESTED, REPLIED)
STATUSES: Final = (*OPEN_STATUSES, CLOSED)

# How a closed ticket ended (tickets_closure_check holds the same): answered at once, closed after the callback,
# merged into another, rejected, withdrawn by the upstream platform that transferred it (撤回).
CLOSURES: Final = ("answered", "callback_done", "merged", "rejected", "withdrawn")

# --- roles ------------------------------------------------------------------------------------------------------------
AGENT: Final = "agent"
DISPATCHER: Final = "dispatcher"
HANDLER: Final = "handler"
MANAGER: Final = "manager"
ADMIN: Final = "admin"
INTEGRATION: Final = "integration"

ROLES: Final = (AGENT, DISPATCHER, HANDLER, MANAGER, ADMIN, INTEGRATION)
# People who sign in to the console (an integration is a peer system with a token).
STAFF_ROLES: Final = frozenset({AGENT, DISPATCHER, HANDLER, MANAGER, ADMIN})
# Who dispatches, rules on returns and extensions, suspends and urges; they see every unit's tickets.
DISPATCHING_ROLES: Final = frozenset({DISPATCHER, MANAGER, ADMIN})
# The call center's side: who calls citizens back, closes and merges, and so sees full phone numbers.
CALLBACK_ROLES: Final = frozenset({AGENT, DISPATCHER, MANAGER, ADMIN})
# Who reads reports and the audit trail.
READER_ROLES: Final = frozenset({MANAGER, ADMIN})

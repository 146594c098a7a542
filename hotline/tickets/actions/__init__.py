"""The lifecycle's actions. Importing this package registers every action in the table."""

from hotline.tickets.actions import closing, correcting, deadlines, dispatching
from hotline.tickets.actions.table import ACTIONS, Action, Ctx, allowed_actions

__all__ = ["ACTIONS", "Action", "Ctx", "allowed_actions", "closing", "correcting", "deadlines", "dispatching"]

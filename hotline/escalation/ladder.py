"""The escalation ladder in SQL, generated from the one ladder in sla (sla.STEP_INSTANTS): the steps with their
instants as a VALUES list, the instant of a named step, and the first step still ahead of a clock.

`alias` is the SQL name of a row holding the clocks table's instant columns (warning_at, due_at, supervision_at);
the step names and column names come from sla, never from a request.
"""

from __future__ import annotations

from sla import STEP_INSTANTS

# A new clock's next step: the first of the ladder, at its instant.
FIRST_STEP, FIRST_INSTANT = STEP_INSTANTS[0]


def values(alias: str, *, ordered: bool = False) -> str:
    """`('warning', d.warning_at), ...`; with `ordered`, each row starts with its position (1, 2, 3)."""
    rows = (
        f"({f'{i}, ' if ordered else ''}'{step}', {alias}.{column})"
        for i, (step, column) in enumerate(STEP_INSTANTS, start=1)
    )
    return ", ".join(rows)


def instant_of(step: str, alias: str) -> str:
    """The instant of the step named by the SQL expression `step`, or NULL."""
    whens = " ".join(f"WHEN '{name}' THEN {alias}.{column}" for name, column in STEP_INSTANTS)
    return f"CASE {step} {whens} END"


def next_step(alias: str, upto: str, unrecorded: str) -> str:
    """The first step whose instant is after `upto` and for which `unrecorded` (a template with {step}) holds."""
    whens = " ".join(
        f"WHEN {alias}.{column} > {upto} AND {unrecorded.format(step=step)} THEN '{step}'"
        for step, column in STEP_INSTANTS
    )
    return f"CASE {whens} END"

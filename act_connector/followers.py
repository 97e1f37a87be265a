"""Followers: tables written as their parent table's records are, by the parent's emitter.

A link table (links.py) makes its rows from an array each parent record embeds; a per-parent
table that follows its parent (per_parent.py, line items) asks Act! for each parent record's
children. The parent's emitter (emitter.py) feeds its followers every record it writes and every
id it deletes, has them settle what those owe before it checkpoints, and checkpoints them with
itself, so that a checkpoint never claims a parent whose followers' rows are not written.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from act_connector.catalog import TableSpec
from act_connector.context import SyncContext
from act_connector.emitter import Emitter


class Follower(ABC):
    """One follower table for one sync. `afresh`: it starts with nothing live (the plan's
    word: it had nothing remembered, or its parent is read from scratch)."""

    def __init__(self, spec: TableSpec, context: SyncContext, afresh: bool):
        self.spec = spec
        self.emitter = Emitter(spec, context.state, context.operations, remember=True)
        self.afresh = afresh
        self.subject = context.subject(spec.name)  # how its log lines name it

    def start(self) -> None:
        """Once the parent has answered: a follower synced afresh starts with nothing live."""
        if self.afresh:
            self.emitter.truncate()

    @abstractmethod
    def emitted(self, records: list[dict], parent_key: str) -> None:
        """The parent wrote these records (the follower writes, or asks for, what they hold)."""

    @abstractmethod
    def deleted(self, parent_ids: list) -> None:
        """The parent deleted these records: their rows here go too."""

    def settle(self) -> None:  # noqa: B027 - a hook: what needs nothing does nothing
        """Writes what the parent's records so far owe this table (before the parent's
        checkpoint). Nothing by default: a link table writes a parent's links with it."""

    def checkpoint(self) -> None:
        self.emitter.checkpoint()

    def close(self) -> None:  # noqa: B027 - a hook: what needs nothing does nothing
        """Ends what the follower runs of its own (the sync is over, or failed). Nothing by
        default: a link table asks nothing of Act!."""

    def finish(self) -> None:  # noqa: B027 - a hook: what needs nothing does nothing
        """Writes what is still owed at the parent's end. Nothing by default: a link table
        writes a parent's links with it."""

    @abstractmethod
    def finish_line(self, parent: str) -> str:
        """The log line that says what the follower read, wrote and deleted."""

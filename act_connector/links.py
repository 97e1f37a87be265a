"""Link tables: one row per related record a parent embeds (an opportunity's contacts, …).

Act! embeds related records as arrays (opportunity.contacts[], note.groups[], …). Each link table
declared in fields.json ("links": parent, array and the two id columns) holds one row per
member: its key is "parent id|related id" (a single string key, so that the remembered set keeps
it like any id), with both ids and the member's position in the array. Links cost no request:
they are written as their parent is, and only then. The link table's remembered set keeps each
link with its position, so a parent emitted again writes only its new or moved links; once the
parent's walk (and reconciliation) is over, a census of the set finds the links of every parent
emitted or deleted in this sync that it no longer has, and deletes them. A parent written twice
in one sync (edited while it ran, and read again by the walk to the present) counts with the
links it has last: those it had only at its first writing are no longer held.
"""

from __future__ import annotations

from collections.abc import Iterable

from act_connector.catalog import TableSpec
from act_connector.emitter import Emitter
from act_connector.known import PAIR_SEPARATOR, KeyLog, KnownSet
from act_connector.state import SyncState

KEY_SEPARATOR = PAIR_SEPARATOR  # GUIDs hold no "|": the key splits back into its two ids


class LinkTable:
    """One link table while its parent syncs: fed the parent's rows, as they are written."""

    def __init__(self, spec: TableSpec, sync_state: SyncState, operations):
        self.spec = spec
        self.emitter = Emitter(spec, sync_state, operations, remember=True)
        self.touched: set[str] = set()  # parents emitted or deleted in this sync
        self.current = KeyLog()  # the links those parents have now
        # Links a parent written again in this sync had when first written, and has no longer.
        self.superseded: set[str] = set()
        # Nothing remembered (its first sync, a re-sync): its parent is read from scratch.
        self.new = self.emitter.known is None

    def start(self) -> None:
        """Once the parent has answered: a new link table starts with nothing live."""
        if self.new:
            self.emitter.truncate()

    def emitted(self, records: list[dict], parent_key: str) -> None:
        known, changed = self.emitter.known, []
        written = {str(record[parent_key]): self._rows(record, parent_key) for record in records}
        now = {parent_id: {row["id"] for row in rows} for parent_id, rows in written.items()}
        self.superseded.update(superseded(known, now, self.touched))
        for parent_id, rows in written.items():
            self.touched.add(parent_id)
            if self.superseded:
                self.superseded.difference_update(now[parent_id])
            for row in rows:
                self.current.add(row["id"])
                if known.get(row["id"]) != row["position"]:
                    changed.append(row)
        self.emitter.write(changed)
        for row in changed:  # remembered with its position, where a record keeps its cursor
            known.put(row["id"], row["position"])

    def _rows(self, record: dict, parent_key: str) -> list[dict]:
        """A link row for each member of the record's array that has an id."""
        links, parent_id = self.spec.links, str(record[parent_key])
        return [
            {
                "id": f"{parent_id}{KEY_SEPARATOR}{related['id']}",
                links["parent_column"]: parent_id,
                links["related_column"]: str(related["id"]),
                "position": position,
            }
            for position, related in enumerate(record.get(links["array"]) or [])
            if isinstance(related, dict) and related.get("id") is not None
        ]

    def deleted(self, parent_ids: list) -> None:
        self.touched.update(str(parent_id) for parent_id in parent_ids)

    def settle(self) -> None:
        """Nothing to wait for: a parent's links are written with it."""

    def close(self) -> None:
        """Nothing to end: a link table asks nothing of Act!."""

    def checkpoint(self) -> None:
        self.emitter.checkpoint()

    def finish(self) -> int:
        """Deletes the links the touched parents no longer have; returns how many."""
        if not self.touched:
            return 0
        current = still_held(self.current, self.superseded)
        stale = stale_keys(self.emitter.known, current, self.touched)
        self.emitter.delete(stale)
        self.emitter.checkpoint()
        return len(stale)

    def finish_line(self, deleted: int, parent: str) -> str:
        return (
            f"Table '{self.spec.name}': {self.emitter.upserted} link(s) written, {deleted} "
            f"deleted, from the {self.spec.links['array']} of {parent}"
        )


def stale_keys(known: KnownSet, seen: Iterable[str], touched: set[str] | None) -> list[str]:
    """The remembered "parent id|related id" keys not seen now, of the parents touched in this
    sync (of every parent when `touched` is None)."""
    census = known.census()
    for key in seen:
        census.see(key)
    return [
        key
        for key in census.unseen()
        if touched is None or str(key).split(KEY_SEPARATOR, 1)[0] in touched
    ]


def superseded(known: KnownSet, now: dict[str, set[str]], touched: set[str] | None) -> set[str]:
    """Of these parents, those written before in this sync (in `touched`), the remembered keys
    they no longer have (`now`: each parent's keys as it is written again). Their earlier
    writing noted those keys as held, for the census at the end; now they are not."""
    again = {parent_id for parent_id in now if touched is not None and parent_id in touched}
    if not again:
        return set()
    return {
        key for key in known.pairs_of(again) if key not in now[key.partition(KEY_SEPARATOR)[0]]
    }


def still_held(noted: Iterable[str], superseded: set[str]) -> Iterable[str]:
    """The keys noted as held in this sync, less those their parent no longer has."""
    return (key for key in noted if key not in superseded) if superseded else noted

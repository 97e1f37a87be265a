"""Link tables: one row per related record a parent embeds (an opportunity's contacts, …).

Act! embeds related records as arrays (opportunity.contacts[], note.groups[], …). Each link table
declared in fields.json ("links": parent, array and the two id columns) holds one row per
member: its key is "parent id|related id" (a single string key, so that the remembered set keeps
it like any id), with both ids and the member's position in the array. Links cost no request:
they are written as their parent is, and only then. The link table's remembered set keeps each
link with its position, so a parent written again writes only its new or moved links, and
deletes at once the links it no longer has (its remembered pairs are one run of the sorted set);
a parent deleted takes its links with it. Nothing is held for the end of the walk: a parent
written twice in one sync (edited while it ran) keeps the links it has last.

Past the remembered set's limit (known.py) a link table writes every link of each parent written,
and, like any table past it, shows deletions only at re-syncs.
"""

from __future__ import annotations

from act_connector.followers import Follower
from act_connector.packing import pair_key


class LinkTable(Follower):
    """One link table while its parent syncs: fed the parent's rows, as they are written."""

    def emitted(self, records: list[dict], parent_key: str) -> None:
        written = {str(record[parent_key]): self._rows(record, parent_key) for record in records}
        known = self.emitter.known
        if known is not None:  # (past the remembered set's limit, every link is written)
            now = {parent_id: {row["id"] for row in rows} for parent_id, rows in written.items()}
            self.emitter.delete(known.pairs_lost(now))
        # Remembered with its position, where a record keeps its cursor.
        rows = [(row["id"], row["position"], row) for rows in written.values() for row in rows]
        self.emitter.write_remembered(self.emitter.changed(rows))

    def _rows(self, record: dict, parent_key: str) -> list[dict]:
        """A link row for each member of the record's array that has an id."""
        links, parent_id = self.spec.links, str(record[parent_key])
        return [
            {
                "id": pair_key(parent_id, str(related["id"])),
                links.parent_column: parent_id,
                links.related_column: str(related["id"]),
                "position": position,
            }
            for position, related in enumerate(record.get(links.array) or [])
            if isinstance(related, dict) and related.get("id") is not None
        ]

    def deleted(self, parent_ids: list) -> None:
        known = self.emitter.known
        if known is not None:
            self.emitter.delete(known.pairs_of({str(parent_id) for parent_id in parent_ids}))

    def finish_line(self, parent: str) -> str:
        return self.emitter.counts_line(
            self.subject, f"from the {self.spec.links.array} of the {parent} written"
        )

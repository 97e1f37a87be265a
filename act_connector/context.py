"""What every table of one sync shares: the client, the settings, the state, the upper bound.

Made once per sync, after Act! has answered (the upper bound is the server's clock then), and
handed to each table's sync, its walks and its followers instead of the same six arguments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from act_connector.client import ActClient
from act_connector.config import Settings
from act_connector.listing import Lister
from act_connector.state import SyncState


@dataclass(frozen=True)
class SyncContext:
    client: ActClient
    settings: Settings
    state: SyncState
    until: datetime  # records edited up to here are this sync's (discovery.sync_until)
    operations: Any  # the SDK's Operations, or a stand-in with the same methods
    lister: Lister  # one per sync: what Act! refuses of a listing is said once

"""The connector's own errors: each message says what happened and what to do, never a secret."""

AUTHORIZATION = "authorization"  # what a message names instead of a table for /authorize


def subject(table: str) -> str:
    """How a message opens: the table it concerns, or the authorization step."""
    return "Authorization" if table == AUTHORIZATION else f"Table '{table}'"


class ActConnectorError(Exception):
    """Base of every error the connector raises on purpose."""

    # True when the error concerns one table alone (its path, its permission, its paging): the
    # sync then goes on with the other tables. Refused credentials, an unreachable server or a
    # TLS failure would fail every table the same way, so they stop the sync at once.
    table_scoped = False


class ConfigurationError(ActConnectorError, ValueError):
    """A configuration value is missing or malformed; raised before any request."""


class CredentialsRefused(ActConnectorError):
    """Act! answered 401 to /authorize: the user name, password or database name is wrong."""


class ActHttpError(ActConnectorError):
    """Act! answered with an error status that retrying will not fix."""

    def __init__(self, table: str, status: int, url: str, server_message: str):
        self.table, self.status, self.url, self.server_message = table, status, url, server_message
        self.table_scoped = table != AUTHORIZATION
        hint = HTTP_HINTS.get(status, "")
        super().__init__(
            f"{subject(table)}: Act! answered HTTP {status} for {url}: {server_message}"
            + (f" ({hint})" if hint else "")
        )


class ActUnavailable(ActConnectorError):
    """Act! could not be reached, or kept failing, after every retry."""


class AnswerTooLarge(ActConnectorError):
    """An answer larger than the records asked for could be: refused before it fills memory."""

    def __init__(self, table: str, url: str, size: int, limit: int):
        self.table = table
        self.table_scoped = table != AUTHORIZATION
        super().__init__(
            f"{subject(table)}: Act! sent more than {limit // (1024 * 1024)} MB in one answer "
            f"({size // (1024 * 1024)} MB read) for {url}; the server or a proxy ignores $top, "
            "or its records are unusually large. Lower batch_size, and check that nothing "
            "between you and Act! rewrites the query."
        )


class PagingError(ActConnectorError):
    """The server's pages make no progress; stopping instead of looping."""

    table_scoped = True

    def __init__(self, table: str, problem: str):
        self.table = table
        super().__init__(f"{subject(table)}: {problem}")


class TablesFailed(ActConnectorError):
    """Some tables failed after the others had synced and been checkpointed."""

    def __init__(self, failures: list[ActConnectorError], table_count: int):
        self.failures = failures
        super().__init__(
            f"{len(failures)} of {table_count} table(s) failed; the others synced and their "
            "progress is saved, and the next sync retries the failed ones. "
            + " | ".join(str(error) for error in failures)
        )


class DatabasesFailed(ActConnectorError):
    """Some databases of a connection failed (or tables of theirs) after the others had synced
    and been checkpointed."""

    def __init__(self, failures: dict[str, ActConnectorError], database_count: int):
        self.failures = failures
        super().__init__(
            f"{len(failures)} of {database_count} database(s) failed; the others synced and "
            "their progress is saved, and the next sync retries the failed ones. "
            + " | ".join(f"Database '{name}': {error}" for name, error in failures.items())
        )


HTTP_HINTS = {
    400: "the server rejected the query; if it names a property, this Act! build may not "
    "support it",
    403: "the Act! user needs the 'Web API Access' permission and read access to this data",
    404: "this path does not exist on the server; check hostname, port and api_path",
}

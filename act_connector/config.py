"""Reading and validating the connector's configuration, and the declaration of every setting.

Fivetran hands the configuration over as a flat object of strings. Every value is checked
here, before any request is made, and each error names the key and says what is wrong with it.
Each setting is declared once, in SETTINGS: its key, its default, how its text is read, what the
setup form shows for it (form.py) and what the README's configuration table says of it
(tools/settings_table.py writes that table).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import partial

from act_connector.catalog import CUSTOM_TABLE, Catalog
from act_connector.errors import ConfigurationError
from act_connector.timestamps import format_utc, parse_timestamp

# Records per page ($top). The brief suggested 10,000, but a page of 10,000 contacts is 24 MB of
# JSON and 54 MB parsed, and one page is parsed while the last is written: 2,000 keeps the
# connector's own memory well under 80 MB of Fivetran's 1 GB, for a request every 2,000 rows.
DEFAULT_BATCH_SIZE = 2000
# The brief's own default, and the most a page may ask for: two pages of 10,000 contacts in flight
# are already 110 MB parsed, and a larger $top risks the 1 GB Fivetran gives a connector.
MAX_BATCH_SIZE = 10_000
# The brief's defaults, kept so that an existing configuration means the same thing here.
DEFAULT_RATE_LIMIT_PAUSE = 0.25
DEFAULT_START_DATE = "1900-01-01T00:00:00Z"
# A request that hangs longer than this is treated as a dropped connection and retried.
DEFAULT_REQUEST_TIMEOUT = 60.0
# Each sync reads again what was edited this long before the last record seen: an edit whose
# stamp lags the moment it becomes visible (a long save, a desktop or server clock behind the one
# that stamps, a busy SQL Server) would otherwise fall below the saved cursor for good. Seen lags
# are seconds to a minute; ten minutes covers them with room to spare.
DEFAULT_LOOKBACK_MINUTES = 10
# How often each incremental table is compared with what Act! holds, to catch deletions and
# records stamped before the saved cursor: daily keeps the listing's cost (a request per 10,000
# records) small beside a day's syncs, and a deleted record shows within a day.
DEFAULT_RECONCILE_INTERVAL_HOURS = 24
RECONCILE_OFF = "off"
MAX_RECONCILE_INTERVAL_HOURS = 8760  # a year; rarer than that is 'off'
# How often group and company membership is read again (a request per group or company): no edit
# time changes when a contact joins or leaves a group (dynamic groups change by rule), so only a
# new read shows it. Daily, like reconciliation: 5,000 companies are 5,000 requests a day.
DEFAULT_MEMBERSHIP_INTERVAL_HOURS = 24

# What separates several database names in database_name: Act! database names hold no comma.
DATABASE_SEPARATOR = ","

DEFAULT_PORTS = {"http": 80, "https": 443}
PEM_MARKER = "-----BEGIN CERTIFICATE-----"
PEM_END = "-----END CERTIFICATE-----"
# A certificate block, whatever whitespace a one-line form field left in it (or took out).
PEM_BLOCK = re.compile(re.escape(PEM_MARKER) + r"(.*?)" + re.escape(PEM_END), re.DOTALL)
PEM_LINE = 64  # the line length PEM (RFC 7468) writes base64 in
# A DNS name (or a Windows server name, which may hold underscores): dot-separated labels of
# letters, digits, hyphens and underscores, none starting or ending with a hyphen.
HOST_NAME = re.compile(r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9_-]{1,63}(?<!-))*\.?")


@dataclass(frozen=True)
class Settings:
    """The validated configuration, with the derived base URL."""

    base_url: str
    username: str
    password: str
    database_name: str
    batch_size: int
    rate_limit_pause: float
    default_start_date: str
    tables: tuple[str, ...]
    request_timeout: float
    verify: bool | str  # what requests takes: True, False, or a CA bundle path
    lookback: timedelta
    reconcile_interval: timedelta | None  # None: never reconcile
    membership_interval: timedelta = timedelta(hours=DEFAULT_MEMBERSHIP_INTERVAL_HOURS)
    # Whether `tables` named the tables: if not, every custom table Act! lists is synced too.
    tables_chosen: bool = False

    @property
    def database_names(self) -> tuple[str, ...]:
        """The Act! databases to sync: database_name holds one, or several (each stripped) joined
        by DATABASE_SEPARATOR."""
        return tuple(self.database_name.split(DATABASE_SEPARATOR))

    def __repr__(self) -> str:  # never let the password reach a log through a repr
        return f"Settings(base_url={self.base_url!r}, tables={self.tables!r})"


# How a setting is entered in the setup form: typed, typed unseen (kept encrypted), or chosen.
TEXT, SECRET, CHOICE = "text", "secret", "choice"
# Stand-ins a form text may hold for what only the catalogue knows: every table, the defaults.
TABLES_MARK, DEFAULT_TABLES_MARK = "{tables}", "{default_tables}"


@dataclass(frozen=True)
class Choice:
    """One option of a setting chosen from a list: its value, and how the form shows it."""

    value: str
    label: str
    description: str


@dataclass(frozen=True)
class Setting:
    """One configuration key, declared once: how its text is read, and how it is shown."""

    key: str
    label: str  # the setup form's
    # Reads (key, text) into the value, the default's text where the value is empty; a bad one
    # raises a ConfigurationError naming the key. Each takes the text as given (a password keeps
    # its spaces) and strips what it may.
    parse: Callable[[str, str], object]
    description: str  # the setup form's help, under the field; may hold the marks above
    meaning: str  # the README's configuration table's
    required: bool = False
    default: str = ""  # the text an empty value stands for
    kind: str = TEXT  # TEXT, SECRET or CHOICE
    choices: tuple[Choice, ...] = ()
    example: str = ""  # the form's placeholder where the default is none (may hold the marks)
    default_words: str = ""  # the README's default, where its text says nothing ("80 / 443")
    # The attribute of Settings the value becomes as it is; "": it makes one with other settings.
    field: str = ""

    def value(self, configuration: dict) -> object:
        """What the configuration gives this setting: its value read, or its default's."""
        given = configuration.get(self.key, "")
        return self.parse(self.key, given if given.strip() else self.default)


def with_catalog(text: str, catalog: Catalog) -> str:
    """A form text with the catalogue's tables in place of its marks."""
    return text.replace(TABLES_MARK, ", ".join(catalog.tables)).replace(
        DEFAULT_TABLES_MARK, ",".join(catalog.default_tables)
    )


def _protocol(key: str, value: str) -> str:
    protocol = value.strip().lower()
    if protocol not in DEFAULT_PORTS:
        raise ConfigurationError(f"{key} must be 'http' or 'https', got '{value}'.")
    return protocol


def _host(key: str, hostname: str) -> str:
    """The host as a URL holds it: a name, an IPv4 address, or an IPv6 address in brackets."""
    host = hostname.strip()
    try:
        address = ipaddress.ip_address(host[1:-1] if host.startswith("[") else host)
    except ValueError:
        address = None
    if address is not None:
        # An IPv6 zone (fe80::1%eth0) is written %25eth0 inside a URL.
        return f"[{str(address).replace('%', '%25')}]" if address.version == 6 else str(address)
    name, colon, port = host.rpartition(":")
    if colon and port.isdigit() and HOST_NAME.fullmatch(name):
        raise ConfigurationError(
            f"{key} must not include a port, got '{hostname}': put '{name}' in {key} and "
            f"'{port}' in port."
        )
    # All digits and dots is meant as an IPv4 address, and ip_address() refused it (999.1.1.1).
    dotted_digits = host.replace(".", "").isdigit()
    if not HOST_NAME.fullmatch(host) or len(host) > 253 or dotted_digits:
        raise ConfigurationError(
            f"{key} must be a host name or IP address only, such as 'act.example.com' or "
            f"'192.168.7.27', got '{hostname}' (put http/https in 'protocol' and the path in "
            f"'api_path')."
        )
    return host


def _port(key: str, text: str) -> int | None:
    """The port number; None for the protocol's default."""
    port = text.strip()
    if not port:
        return None
    try:
        number = int(port)
    except ValueError:
        raise ConfigurationError(f"Port must be a whole number, got '{port}'.") from None
    if not 1 <= number <= 65535:
        raise ConfigurationError(f"Port must be between 1 and 65535, got {number}.")
    return number


def _api_path(key: str, api_path: str) -> str:
    path = api_path.strip().strip("/")
    if (
        not path
        or any(mark in path for mark in ("://", "?", "#"))
        or any(character.isspace() for character in path)
    ):
        raise ConfigurationError(
            f"{key} must be the path of the Act! Web API on the server, such as "
            f"'/act.web.api' or '/acme-api/act.web.api', got '{api_path}' (put the server in "
            f"'hostname')."
        )
    return path


def _base_url(protocol: str, host: str, port: int | None, path: str) -> str:
    """protocol://host[:port]/path, without the port when it is the protocol's default."""
    netloc = host if port in (None, DEFAULT_PORTS[protocol]) else f"{host}:{port}"
    return f"{protocol}://{netloc}/{path}"


def _whole(key: str, text: str, zero: bool = False) -> int:
    try:
        number = int(text)
    except ValueError:
        number = None
    lowest = 0 if zero else 1
    if number is None or number < lowest:
        kind = "a whole number of 0 or more" if zero else "a positive whole number"
        raise ConfigurationError(f"{key} must be {kind}, got '{text}'.")
    return number


def _minutes(key: str, text: str) -> timedelta:
    return timedelta(minutes=_whole(key, text.strip(), zero=True))


def _interval(key: str, text: str, may_be_off: bool) -> timedelta | None:
    """Whole hours from 0 (every sync) to a year; None for 'off', where that may be chosen."""
    text = text.strip()
    if may_be_off and text.lower() == RECONCILE_OFF:
        return None
    try:
        hours = _whole(key, text, zero=True)
    except ConfigurationError:
        hours = None
    if hours is None or hours > MAX_RECONCILE_INTERVAL_HOURS:
        off = f", or '{RECONCILE_OFF}'" if may_be_off else ""
        raise ConfigurationError(
            f"{key} must be a whole number of hours from 0 (every sync) to "
            f"{MAX_RECONCILE_INTERVAL_HOURS:,} (a year){off}, got '{text}'."
        )
    return timedelta(hours=hours)


def _username(key: str, text: str) -> str:
    name = text.strip()
    if ":" in name:  # Basic authentication ends the user name at the first colon (RFC 7617)
        raise ConfigurationError(
            f"{key} must not contain ':', got '{name}': Act! could not tell it from the password."
        )
    return name


def _as_given(key: str, text: str) -> str:
    """The text itself: a password is checked by Act! alone, spaces and all."""
    return text


def _stripped(key: str, text: str) -> str:
    """The text without surrounding spaces, checked later with another setting's value."""
    return text.strip()


def _database_name(key: str, text: str) -> str:
    """One database name, or several separated by commas (an Act! database name holds none):
    spaces around each name are dropped; spaces within one are kept, as Act! names it."""
    names = [name.strip() for name in text.split(DATABASE_SEPARATOR)]
    if not all(names):
        raise ConfigurationError(
            f"{key} names an empty database, got '{text.strip()}': separate several "
            "database names by single commas."
        )
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise ConfigurationError(f"{key} names {', '.join(twice)} more than once.")
    for name in names:
        try:
            name.encode("latin-1")  # it travels as the Act-Database-Name header
        except UnicodeEncodeError:
            raise ConfigurationError(
                f"{key} can hold only Latin-1 characters (it is sent as an HTTP header, "
                f"Act-Database-Name), got '{name}'."
            ) from None
    return DATABASE_SEPARATOR.join(names)


def _table_names(key: str, text: str) -> tuple[str, ...] | None:
    """The names the text lists, lower-case, each once in the order given; None for the
    catalogue's default tables. Whether each is a table of the catalogue is asked later."""
    if not text.strip():
        return None
    names = [name.strip().lower() for name in text.split(",") if name.strip()]
    if not names:
        raise ConfigurationError(f"{key} must name at least one table.")
    return tuple(dict.fromkeys(names))


def _start_date(key: str, text: str) -> str:
    text = text.strip()
    try:
        start = parse_timestamp(text)
    except ValueError:
        raise ConfigurationError(
            f"{key} must be an ISO 8601 date or time such as '2024-01-01T00:00:00Z', got '{text}'."
        ) from None
    if start > datetime.now(timezone.utc):
        raise ConfigurationError(
            f"{key} must not be in the future, got '{text}': the first sync would "
            "read no records at all."
        )
    return format_utc(start)


def _batch_size(key: str, text: str) -> int:
    text = text.strip()
    size = _whole(key, text)
    if size > MAX_BATCH_SIZE:
        raise ConfigurationError(
            f"{key} must be at most {MAX_BATCH_SIZE:,}, got '{text}': larger pages risk the "
            "memory Fivetran gives a connector, and Act! servers may send fewer rows anyway."
        )
    return size


def _number(key: str, text: str, minimum: float) -> float:
    text = text.strip()
    try:
        number = float(text)
    except ValueError:
        number = None
    if number is None or number != number or number < minimum or number == float("inf"):
        raise ConfigurationError(f"{key} must be a number of at least {minimum:g}, got '{text}'.")
    return number


def _verify(key: str, text: str) -> bool:
    flag = text.strip().lower()
    if flag not in ("true", "false"):
        raise ConfigurationError(f"{key} must be 'true' or 'false', got '{text.strip()}'.")
    return flag == "true"


# Every setting, in the order the setup form asks for them (and the README lists them).
SETTINGS = (
    Setting(
        "protocol",
        "Protocol",
        _protocol,
        "How to reach the Act! Web API.",
        "`http` or `https`",
        required=True,
        kind=CHOICE,
        choices=(
            Choice("https", "HTTPS", "Act! cloud and most servers"),
            Choice("http", "HTTP", "A self-hosted server on a LAN"),
        ),
    ),
    Setting(
        "hostname",
        "Host name",
        _host,
        "Host name or IP address of the Act! Web API server, without http:// or a path.",
        "host name or IP address only, e.g. `apius.act.com`, `192.168.7.27` or `::1`; no port, "
        "no `https://`",
        required=True,
        example="apius.act.com",
    ),
    Setting(
        "port",
        "Port",
        _port,
        "Optional. Leave empty for 80 (HTTP) or 443 (HTTPS).",
        "optional; 1 to 65535",
        example="443",
        default_words="80 / 443",
    ),
    Setting(
        "api_path",
        "API path",
        _api_path,
        "Path of the Web API on the server: /act.web.api, or /{customer}-api/act.web.api.",
        "path of the Web API: `/act.web.api`, or `/{customer}-api/act.web.api`",
        required=True,
        example="/act.web.api",
    ),
    Setting(
        "username",
        "User name",
        _username,
        "The Act! user's display name, spaces included. The user needs 'Web API Access'.",
        "the Act! user's display name, spaces included (`John Hollo`)",
        required=True,
        example="John Hollo",
        field="username",
    ),
    Setting(
        "password",
        "Password",
        _as_given,
        "The Act! user's password.",
        "the Act! user's password",
        required=True,
        kind=SECRET,
        field="password",
    ),
    Setting(
        "database_name",
        "Database name",
        _database_name,
        "The Act! database to sync (sent as the Act-Database-Name header), or several "
        "separated by commas, each synced to a schema of its own.",
        "the Act! database, sent as the `Act-Database-Name` header; or several separated by "
        "commas, each synced to a schema of its own ([Several databases]"
        "(#several-databases-in-one-connection))",
        required=True,
        example="ActDemo",
        field="database_name",
    ),
    Setting(
        "tables",
        "Tables",
        _table_names,
        "Optional. Comma-separated tables to sync; empty syncs the default ones and every "
        f"custom table. Available: {TABLES_MARK}, custom_<name> for each custom table.",
        "comma-separated, from the tables of [Tables](#tables) (a link table or line items only "
        "with its parent), and `custom_<name>` for a custom table",
        example=DEFAULT_TABLES_MARK,
        default_words="the core and reference tables, line items, membership, the link tables of "
        "those chosen, and every custom table",
    ),
    Setting(
        "default_start_date",
        "Start date",
        _start_date,
        "Optional. ISO 8601; the first sync reads records edited from then on.",
        "ISO 8601, not in the future; the first sync reads records edited from then on",
        default=DEFAULT_START_DATE,
        field="default_start_date",
    ),
    Setting(
        "batch_size",
        "Page size",
        _batch_size,
        "Optional. Records asked for per request ($top); the server may send fewer.",
        f"records asked for per request (`$top`), 1 to {MAX_BATCH_SIZE:,}; the server may send "
        "fewer, and a table of wide records is asked for fewer (pages of about 2 MB)",
        default=str(DEFAULT_BATCH_SIZE),
        field="batch_size",
    ),
    Setting(
        "rate_limit_pause",
        "Throttle pause (seconds)",
        partial(_number, minimum=0),
        "Optional. Pause between requests once Act! has throttled this sync; none before.",
        "seconds between requests, once Act! has throttled this sync without saying how long"
        " to wait",
        default=str(DEFAULT_RATE_LIMIT_PAUSE),
        field="rate_limit_pause",
    ),
    Setting(
        "request_timeout_seconds",
        "Request timeout (seconds)",
        partial(_number, minimum=1),
        "Optional. A request that takes longer is retried.",
        "a request that takes longer is retried",
        default=f"{DEFAULT_REQUEST_TIMEOUT:g}",
        field="request_timeout",
    ),
    Setting(
        "lookback_minutes",
        "Look-back window (minutes)",
        _minutes,
        "Optional. Each sync re-reads records edited this long before the last one seen.",
        "each sync re-reads records edited this long before the last one seen (see "
        "[why](docs/design.md)); `0` turns it off",
        default=str(DEFAULT_LOOKBACK_MINUTES),
        field="lookback",
    ),
    Setting(
        "reconcile_interval_hours",
        "Reconciliation interval (hours)",
        partial(_interval, may_be_off=True),
        "Optional. How often to compare each table with Act! to catch deleted records and "
        "records stamped in the past; 0 on every sync, 'off' never.",
        "how often each table is compared with what Act! holds, to catch deleted records and "
        "records stamped in the past (see [Deletions](#deletions)); a whole number of hours up "
        f"to {MAX_RECONCILE_INTERVAL_HOURS:,}, `0` on every sync, `{RECONCILE_OFF}` never",
        default=str(DEFAULT_RECONCILE_INTERVAL_HOURS),
        field="reconcile_interval",
    ),
    Setting(
        "membership_interval_hours",
        "Membership interval (hours)",
        partial(_interval, may_be_off=False),
        "Optional. How often to read again who is in each group and company (a request "
        "per group or company); 0 on every sync.",
        "how often `group_contacts` and `company_contacts` are read again (a request per group "
        "and per company; see [Tables](#tables)); a whole number of hours up to "
        f"{MAX_RECONCILE_INTERVAL_HOURS:,}, `0` on every sync",
        default=str(DEFAULT_MEMBERSHIP_INTERVAL_HOURS),
        field="membership_interval",
    ),
    Setting(
        "ca_bundle",
        "CA certificate",
        _stripped,
        "Optional. PEM certificate (or file path) of a server with its own certificate.",
        "the server's own CA certificate, as PEM text (line breaks may be lost in pasting) or a "
        "file path",
        example=PEM_MARKER,
        default_words="none",
    ),
    # A dropdown, not a toggle: a toggle nobody touched might arrive as "false" and turn
    # certificate checks off; an unset dropdown arrives empty, which means "true".
    Setting(
        "verify_tls",
        "Verify TLS certificate",
        _verify,
        "Optional, yes by default. Prefer giving the server's CA certificate.",
        "`false` skips certificate checks (for testing only; a warning is logged)",
        default="true",
        kind=CHOICE,
        choices=(
            Choice("true", "Yes", "Recommended; the default"),
            Choice("false", "No", "Only to test a self-signed server"),
        ),
    ),
)
# Keys the user must fill in; everything else has a default.
REQUIRED_KEYS = tuple(setting.key for setting in SETTINGS if setting.required)
KNOWN_KEYS = frozenset(setting.key for setting in SETTINGS)
SECRET_KEYS = frozenset(setting.key for setting in SETTINGS if setting.kind == SECRET)


def validate_configuration(configuration: dict, catalog: Catalog) -> Settings:
    """Checks every value and returns the settings; a ConfigurationError names the bad key."""
    if not isinstance(configuration, dict):
        raise ConfigurationError("The configuration must be a JSON object of settings.")
    for key, value in configuration.items():
        if not isinstance(value, str):
            raise ConfigurationError(
                f"Configuration value '{key}' must be a string (Fivetran passes every value as "
                f'text), got {type(value).__name__}: write it as "{value}".'
                if key not in SECRET_KEYS
                else f"Configuration value '{key}' must be a string."
            )
    missing = [key for key in REQUIRED_KEYS if not configuration.get(key, "").strip()]
    if missing:
        raise ConfigurationError(f"Missing required configuration value(s): {', '.join(missing)}.")
    values = {setting.key: setting.value(configuration) for setting in SETTINGS}
    return Settings(
        base_url=_base_url(
            values["protocol"], values["hostname"], values["port"], values["api_path"]
        ),
        tables=_tables(values["tables"], catalog),
        tables_chosen=values["tables"] is not None,
        verify=_tls(values["verify_tls"], values["ca_bundle"]),
        **{setting.field: values[setting.key] for setting in SETTINGS if setting.field},
    )


def unknown_keys(configuration: dict) -> list[str]:
    """Keys the connector does not know: most often a typo that would otherwise pass unnoticed."""
    return sorted(set(configuration) - KNOWN_KEYS)


def _tables(names: tuple[str, ...] | None, catalog: Catalog) -> tuple[str, ...]:
    if names is None:
        return catalog.default_tables
    # A custom table (custom_<entity>) is known only once Act! lists its entities: at sync time.
    unknown = [
        name for name in names if name not in catalog.tables and not CUSTOM_TABLE.fullmatch(name)
    ]
    if unknown:
        raise ConfigurationError(
            f"tables names unknown table(s) {', '.join(unknown)}; "
            f"choose from: {', '.join(catalog.tables)}, or custom_<name> for a custom table."
        )
    catalog.refuse_orphans(list(names))
    return names


def _tls(verify: bool, ca_bundle: str) -> bool | str:
    if not verify:
        if ca_bundle:
            raise ConfigurationError(
                "ca_bundle is set but verify_tls is 'false': set verify_tls to 'true' to use it."
            )
        return False
    if not ca_bundle:
        return True
    if ca_bundle.startswith(PEM_MARKER):
        return _pem_file(_normal_pem(ca_bundle))
    if not os.path.isfile(ca_bundle):
        raise ConfigurationError(
            f"ca_bundle must be a PEM certificate (starting with '{PEM_MARKER}') or the path "
            f"of a PEM file; no file at '{ca_bundle}'."
        )
    return ca_bundle


def _normal_pem(text: str) -> str:
    """The certificates of pasted PEM text, one base64 line of 64 characters after another.

    A one-line form field may turn the line breaks into spaces or drop them; Python's ssl then
    fails with a message nobody can act on, so the text is rebuilt and checked here.
    """
    blocks = []
    for body in PEM_BLOCK.findall(text):
        encoded = "".join(body.split())
        try:
            base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            encoded = ""
        if not encoded:
            raise ConfigurationError(
                "ca_bundle holds a certificate whose body is not base64: paste the whole PEM "
                f"text, from {PEM_MARKER} to {PEM_END}."
            )
        lines = [encoded[at : at + PEM_LINE] for at in range(0, len(encoded), PEM_LINE)]
        blocks.append("\n".join([PEM_MARKER, *lines, PEM_END]))
    if not blocks:
        raise ConfigurationError(
            f"ca_bundle starts like a PEM certificate but has no '{PEM_END}': paste the whole "
            "certificate."
        )
    return "\n".join(blocks)


def _pem_file(pem: str) -> str:
    """A pasted certificate as the file requests needs (Fivetran has no file system to point
    at); named by its content, so that validating the configuration again reuses it."""
    digest = hashlib.sha256(pem.encode("utf-8")).hexdigest()[:16]
    path = os.path.join(tempfile.gettempdir(), f"act-ca-{digest}.pem")
    if not os.path.isfile(path):
        handle, partial = tempfile.mkstemp(prefix="act-ca-", suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as bundle:
            bundle.write(pem + "\n")
        os.replace(partial, path)  # whole or not at all, even if two validations race
    return path

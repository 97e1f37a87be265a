"""Reading and validating the connector's configuration.

Fivetran hands the configuration over as a flat object of strings. Every value is checked
here, before any request is made, and each error names the key and says what is wrong with it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from act_connector.catalog import CUSTOM_TABLE, Catalog
from act_connector.errors import ConfigurationError
from act_connector.timestamps import format_utc, parse_timestamp

# Keys the user must fill in; everything else has a default.
REQUIRED_KEYS = ("protocol", "hostname", "api_path", "username", "password", "database_name")

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

OPTIONAL_KEYS = (
    "port",
    "batch_size",
    "rate_limit_pause",
    "default_start_date",
    "tables",
    "request_timeout_seconds",
    "verify_tls",
    "ca_bundle",
    "lookback_minutes",
    "reconcile_interval_hours",
    "membership_interval_hours",
)
KNOWN_KEYS = frozenset(REQUIRED_KEYS + OPTIONAL_KEYS)
SECRET_KEYS = frozenset({"password"})

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

    def __repr__(self) -> str:  # never let the password reach a log through a repr
        return f"Settings(base_url={self.base_url!r}, tables={self.tables!r})"


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

    def optional(key: str) -> str:
        return configuration.get(key, "").strip()

    protocol = _protocol(configuration["protocol"])
    return Settings(
        base_url=build_base_url(
            protocol, configuration["hostname"], optional("port"), configuration["api_path"]
        ),
        username=_username(configuration["username"]),
        password=configuration["password"],
        database_name=_database_name(configuration["database_name"]),
        batch_size=_batch_size(optional("batch_size")),
        rate_limit_pause=_number(
            "rate_limit_pause", optional("rate_limit_pause"), DEFAULT_RATE_LIMIT_PAUSE, minimum=0
        ),
        default_start_date=_start_date(optional("default_start_date")),
        tables=_tables(optional("tables"), catalog),
        tables_chosen=bool(optional("tables")),
        request_timeout=_number(
            "request_timeout_seconds",
            optional("request_timeout_seconds"),
            DEFAULT_REQUEST_TIMEOUT,
            minimum=1,
        ),
        verify=_tls(optional("verify_tls"), configuration.get("ca_bundle", "").strip()),
        lookback=timedelta(
            minutes=_positive_int(
                "lookback_minutes",
                optional("lookback_minutes"),
                DEFAULT_LOOKBACK_MINUTES,
                zero=True,
            )
        ),
        reconcile_interval=_interval(
            "reconcile_interval_hours",
            optional("reconcile_interval_hours"),
            DEFAULT_RECONCILE_INTERVAL_HOURS,
            may_be_off=True,
        ),
        membership_interval=_interval(
            "membership_interval_hours",
            optional("membership_interval_hours"),
            DEFAULT_MEMBERSHIP_INTERVAL_HOURS,
            may_be_off=False,
        ),
    )


def unknown_keys(configuration: dict) -> list[str]:
    """Keys the connector does not know: most often a typo that would otherwise pass unnoticed."""
    return sorted(set(configuration) - KNOWN_KEYS)


def build_base_url(protocol: str, hostname: str, port: str, api_path: str) -> str:
    """protocol://hostname[:port]/api_path, without the port when it is the default one."""
    host = _host(hostname)
    port_text = port.strip()
    if port_text:
        try:
            port_number = int(port_text)
        except ValueError:
            raise ConfigurationError(f"Port must be a whole number, got '{port}'.") from None
        if not 1 <= port_number <= 65535:
            raise ConfigurationError(f"Port must be between 1 and 65535, got {port_number}.")
        port_text = "" if port_number == DEFAULT_PORTS[protocol] else str(port_number)
    path = api_path.strip().strip("/")
    if (
        not path
        or any(mark in path for mark in ("://", "?", "#"))
        or any(character.isspace() for character in path)
    ):
        raise ConfigurationError(
            f"api_path must be the path of the Act! Web API on the server, such as "
            f"'/act.web.api' or '/acme-api/act.web.api', got '{api_path}' (put the server in "
            f"'hostname')."
        )
    netloc = f"{host}:{port_text}" if port_text else host
    return f"{protocol}://{netloc}/{path}"


def _host(hostname: str) -> str:
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
            f"hostname must not include a port, got '{hostname}': put '{name}' in hostname and "
            f"'{port}' in port."
        )
    # All digits and dots is meant as an IPv4 address, and ip_address() refused it (999.1.1.1).
    dotted_digits = host.replace(".", "").isdigit()
    if not HOST_NAME.fullmatch(host) or len(host) > 253 or dotted_digits:
        raise ConfigurationError(
            f"hostname must be a host name or IP address only, such as 'act.example.com' or "
            f"'192.168.7.27', got '{hostname}' (put http/https in 'protocol' and the path in "
            f"'api_path')."
        )
    return host


def _protocol(value: str) -> str:
    protocol = value.strip().lower()
    if protocol not in DEFAULT_PORTS:
        raise ConfigurationError(f"protocol must be 'http' or 'https', got '{value}'.")
    return protocol


def _positive_int(key: str, text: str, default: int, zero: bool = False) -> int:
    if not text:
        return default
    try:
        number = int(text)
    except ValueError:
        number = None
    lowest = 0 if zero else 1
    if number is None or number < lowest:
        kind = "a whole number of 0 or more" if zero else "a positive whole number"
        raise ConfigurationError(f"{key} must be {kind}, got '{text}'.")
    return number


def _interval(key: str, text: str, default: int, may_be_off: bool) -> timedelta | None:
    """Whole hours from 0 (every sync) to a year; None for 'off', where that may be chosen."""
    if may_be_off and text.lower() == RECONCILE_OFF:
        return None
    try:
        hours = _positive_int(key, text, default, zero=True)
    except ConfigurationError:
        hours = None
    if hours is None or hours > MAX_RECONCILE_INTERVAL_HOURS:
        off = f", or '{RECONCILE_OFF}'" if may_be_off else ""
        raise ConfigurationError(
            f"{key} must be a whole number of hours from 0 (every sync) to "
            f"{MAX_RECONCILE_INTERVAL_HOURS:,} (a year){off}, got '{text}'."
        )
    return timedelta(hours=hours)


def _username(text: str) -> str:
    name = text.strip()
    if ":" in name:  # Basic authentication ends the user name at the first colon (RFC 7617)
        raise ConfigurationError(
            f"username must not contain ':', got '{name}': Act! could not tell it from the "
            "password."
        )
    return name


def _database_name(text: str) -> str:
    name = text.strip()
    try:
        name.encode("latin-1")  # it travels as the Act-Database-Name header
    except UnicodeEncodeError:
        raise ConfigurationError(
            f"database_name can hold only Latin-1 characters (it is sent as an HTTP header, "
            f"Act-Database-Name), got '{name}'."
        ) from None
    return name


def _batch_size(text: str) -> int:
    size = _positive_int("batch_size", text, DEFAULT_BATCH_SIZE)
    if size > MAX_BATCH_SIZE:
        raise ConfigurationError(
            f"batch_size must be at most {MAX_BATCH_SIZE:,}, got '{text}': larger pages risk the "
            "memory Fivetran gives a connector, and Act! servers may send fewer rows anyway."
        )
    return size


def _number(key: str, text: str, default: float, minimum: float) -> float:
    if not text:
        return default
    try:
        number = float(text)
    except ValueError:
        number = None
    if number is None or number != number or number < minimum or number == float("inf"):
        raise ConfigurationError(f"{key} must be a number of at least {minimum:g}, got '{text}'.")
    return number


def _start_date(text: str) -> str:
    if not text:
        return DEFAULT_START_DATE
    try:
        start = parse_timestamp(text)
    except ValueError:
        raise ConfigurationError(
            f"default_start_date must be an ISO 8601 date or time such as "
            f"'2024-01-01T00:00:00Z', got '{text}'."
        ) from None
    if start > datetime.now(timezone.utc):
        raise ConfigurationError(
            f"default_start_date must not be in the future, got '{text}': the first sync would "
            "read no records at all."
        )
    return format_utc(start)


def _tables(text: str, catalog: Catalog) -> tuple[str, ...]:
    if not text:
        return catalog.default_tables
    names = [name.strip().lower() for name in text.split(",") if name.strip()]
    # A custom table (custom_<entity>) is known only once Act! lists its entities: at sync time.
    unknown = [
        name for name in names if name not in catalog.tables and not CUSTOM_TABLE.fullmatch(name)
    ]
    if unknown:
        raise ConfigurationError(
            f"tables names unknown table(s) {', '.join(unknown)}; "
            f"choose from: {', '.join(catalog.tables)}, or custom_<name> for a custom table."
        )
    if not names:
        raise ConfigurationError("tables must name at least one table.")
    catalog.refuse_orphans(names)
    return tuple(dict.fromkeys(names))  # in the order given, each once


def _tls(verify_text: str, ca_bundle: str) -> bool | str:
    verify_flag = verify_text.lower() if verify_text else "true"
    if verify_flag not in ("true", "false"):
        raise ConfigurationError(f"verify_tls must be 'true' or 'false', got '{verify_text}'.")
    if verify_flag == "false":
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

"""Act! CRM to Fivetran: syncs an Act! database (or several, each to a schema of its own)
through the Act! Web API.

Contacts, companies, opportunities, activities, products and custom tables (and, on request,
groups, notes, history and recurring series) are read incrementally with keyset paging on each
table's edit time, so that no record is lost or duplicated even when records change during the
sync; activity types, users, sales processes and stages, history types, field definitions and
custom table definitions are read whole. Custom fields are typed from Act!'s own definitions. The
tables are declared in fields.json; the code that syncs them lives in the act_connector package.
"""

from fivetran_connector_sdk import Connector
from fivetran_connector_sdk import Operations as op

from act_connector.catalog import load_catalog
from act_connector.config import unknown_keys, validate_configuration
from act_connector.databases import connection_schema, sync_connection
from act_connector.form import configuration_form
from act_connector.logs import log

CATALOG = load_catalog()


def schema(configuration: dict):
    """The chosen tables (and each database's custom tables) with their primary keys and the
    column types Act! documents, custom fields typed as Act!'s field definitions say; with
    several databases, each database's in its schema."""
    return connection_schema(validate_configuration(configuration, CATALOG), CATALOG)


def update(configuration: dict, state: dict):
    """Validate, read the state, sync each database's tables (checkpointing as it goes),
    summarise."""
    settings = validate_configuration(configuration, CATALOG)
    for key in unknown_keys(configuration):
        log.warning(f"Configuration key '{key}' is not a setting of this connector; ignored")
    sync_connection(settings, CATALOG, state, op)


connector = Connector(update=update, schema=schema, configuration_form=configuration_form)

{#- Reading the connector's tables: from one schema, or from each of union_schemas. -#}

{% macro source_database() -%}
    {{ return(var('act_database') or target.database) }}
{%- endmacro %}

{% macro source_schemas() -%}
    {#- The schemas an Act! table is read from: union_schemas if set, else act_schema. -#}
    {{ return(var('union_schemas') or [var('act_schema')]) }}
{%- endmacro %}

{% macro found_relations(table) -%}
    {#- [(schema, relation, {column name: column})] for each schema that holds the table. Empty
        at parse time (nothing is queried then). -#}
    {%- set single = source('act', table) -%}
    {%- set found = [] -%}
    {%- if execute -%}
        {%- for schema in act.source_schemas() -%}
            {%- set relation = adapter.get_relation(
                database=act.source_database(), schema=schema, identifier=single.identifier) -%}
            {%- if relation is not none -%}
                {%- set columns = {} -%}
                {%- for column in adapter.get_columns_in_relation(relation) -%}
                    {%- do columns.update({column.name | lower: column}) -%}
                {%- endfor -%}
                {%- do found.append((schema, relation, columns)) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(found) }}
{%- endmacro %}

{% macro custom_field_columns(table, declared) -%}
    {#- The custom fields (custom_fields_*) any schema's table holds beyond the catalogue's
        columns, each once, in name order: Act!'s custom fields differ from database to
        database, and the connector declares them at sync time. -#}
    {%- set names = [] -%}
    {%- set kinds = {} -%}
    {%- for schema, relation, columns in act.found_relations(table) -%}
        {%- for name, column in columns.items() -%}
            {%- if name.startswith('custom_fields_') and name not in declared and name not in names -%}
                {%- do names.append(name) -%}
                {%- do kinds.update({name: column.data_type | lower}) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return((names | sort | list, kinds)) }}
{%- endmacro %}

{% macro union_source(table, declared) -%}
    {#- One select per schema that holds the table, every declared column and custom field in
        the same order (null where a schema's table lacks it), with source_schema. A table that
        no schema holds yields no rows, with the same columns. -#}
    {%- set found = act.found_relations(table) -%}
    {%- set extra = act.custom_field_columns(table, declared)[0] -%}
    {%- if found | length == 0 %}
    select
        cast(null as {{ dbt.type_string() }}) as source_schema,
        {%- for name in declared + extra %}
        null as {{ name }},
        {%- endfor %}
        cast(null as {{ dbt.type_timestamp() }}) as _fivetran_synced,
        cast(null as {{ dbt.type_boolean() }}) as _fivetran_deleted
    where 1 = 0
    {%- endif %}
    {%- for schema, relation, columns in found %}
    select
        cast('{{ schema }}' as {{ dbt.type_string() }}) as source_schema,
        {%- for name in declared + extra %}
        {% if name in columns %}{{ name }}{% else %}null{% endif %} as {{ name }},
        {%- endfor %}
        {#- An empty table may lack even these (the SDK creates a column with its first value). #}
        {% if '_fivetran_synced' in columns %}_fivetran_synced{% else %}cast(null as {{ dbt.type_timestamp() }}){% endif %} as _fivetran_synced,
        {% if '_fivetran_deleted' in columns %}_fivetran_deleted{% else %}cast(null as {{ dbt.type_boolean() }}){% endif %} as _fivetran_deleted
    from {{ relation }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{%- endmacro %}

{% macro custom_fields(table, declared) -%}
    {#- The select list of the table's custom fields, each followed by a comma: time stamps as
        UTC timestamps, the rest as they landed (Act!'s currency is already a decimal). -#}
    {%- set names, kinds = act.custom_field_columns(table, declared) -%}
    {%- for name in names -%}
        {%- if 'timestamp' in kinds[name] -%}
    {{ act.timestamp(name) }} as {{ name }},
        {% else -%}
    {{ name }},
        {% endif -%}
    {%- endfor -%}
{%- endmacro %}

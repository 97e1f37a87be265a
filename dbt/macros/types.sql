{#- Cross-database conversions the staging models use (dbt's own type_* macros for the rest). -#}

{% macro type_money() -%}
    {#- Act!'s money: SQL Server's money type, 19 digits with 4 after the point. -#}
    {{ return(adapter.dispatch('type_money', 'act')()) }}
{%- endmacro %}

{% macro default__type_money() -%}
    numeric(19, 4)
{%- endmacro %}

{% macro bigquery__type_money() -%}
    numeric
{%- endmacro %}

{% macro text(column) -%}
    {#- An id as text; Act!'s empty string for "none" (companyID "") as null. -#}
    nullif(cast({{ column }} as {{ dbt.type_string() }}), '')
{%- endmacro %}

{% macro integer(column) -%}
    {#- An integer Act! may send as text (opportunity status "1"): null where it is no number. -#}
    {{ return(adapter.dispatch('integer', 'act')(column)) }}
{%- endmacro %}

{% macro default__integer(column) -%}
    cast(nullif(trim(cast({{ column }} as {{ dbt.type_string() }})), '') as {{ dbt.type_int() }})
{%- endmacro %}

{% macro duckdb__integer(column) -%}
    try_cast({{ column }} as {{ dbt.type_int() }})
{%- endmacro %}

{% macro snowflake__integer(column) -%}
    try_cast(cast({{ column }} as {{ dbt.type_string() }}) as {{ dbt.type_int() }})
{%- endmacro %}

{% macro bigquery__integer(column) -%}
    safe_cast({{ column }} as {{ dbt.type_int() }})
{%- endmacro %}

{% macro timestamp(column) -%}
    {#- A UTC_DATETIME column as a timestamp of UTC wall-clock time, whatever the session's time
        zone; Act!'s "no date" values (0001-01-01, 9999-12-31) as null. -#}
    {%- set utc = adapter.dispatch('utc_timestamp', 'act')(column) -%}
    case
        when {{ utc }} < cast('0002-01-01 00:00:00' as {{ dbt.type_timestamp() }}) then null
        when {{ utc }} >= cast('9999-01-01 00:00:00' as {{ dbt.type_timestamp() }}) then null
        else {{ utc }}
    end
{%- endmacro %}

{% macro default__utc_timestamp(column) -%}
    cast({{ column }} as {{ dbt.type_timestamp() }})
{%- endmacro %}

{% macro duckdb__utc_timestamp(column) -%}
    timezone('UTC', cast({{ column }} as timestamptz))
{%- endmacro %}

{% macro postgres__utc_timestamp(column) -%}
    (cast({{ column }} as timestamptz) at time zone 'UTC')
{%- endmacro %}

{% macro snowflake__utc_timestamp(column) -%}
    convert_timezone('UTC', cast({{ column }} as timestamp_tz))::timestamp_ntz
{%- endmacro %}

{% macro bigquery__utc_timestamp(column) -%}
    datetime(cast({{ column }} as timestamp), 'UTC')
{%- endmacro %}

{% macro utc_now() -%}
    {#- The present as a UTC timestamp, as the staging models' time stamps are. -#}
    {{ return(adapter.dispatch('utc_timestamp', 'act')(dbt.current_timestamp())) }}
{%- endmacro %}

{% macro month(column) -%}
    cast({{ dbt.date_trunc('month', column) }} as date)
{%- endmacro %}

{% macro week(column) -%}
    cast({{ dbt.date_trunc('week', column) }} as date)
{%- endmacro %}

{% macro key(columns) -%}
    {#- A row's key made of several columns, none of which may be null: their texts joined by
        '|' ('-' for a null). -#}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- do parts.append("coalesce(cast(" ~ column ~ " as " ~ dbt.type_string() ~ "), '-')") -%}
        {%- if not loop.last %}{% do parts.append("'|'") %}{% endif -%}
    {%- endfor -%}
    {{ dbt.concat(parts) }}
{%- endmacro %}

{% macro raw(table, columns) -%}
    {#- Columns of the connector's table as it landed, deleted rows included, from every schema,
        with source_schema: what the singular tests compute their figures from. -#}
    {%- for schema in act.source_schemas() %}
    select '{{ schema }}' as source_schema, {{ columns | join(', ') }}
    from {{ api.Relation.create(database=act.source_database(), schema=schema, identifier=table) }} as t
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{%- endmacro %}

{% macro slug(text) -%}
    {{ return(modules.re.sub('[^a-z0-9]+', '_', text | lower).strip('_') or 'other') }}
{%- endmacro %}

{% macro type_names(relation, column) -%}
    {#- The distinct non-empty names in a column, sorted: the types a model pivots on. -#}
    {#- None before the model is built (dbt compile on a fresh target): no type columns then. -#}
    {%- if not execute or load_relation(relation) is none -%}{{ return([]) }}{%- endif -%}
    {%- set query -%}
        select distinct {{ column }} from {{ relation }}
        where {{ column }} is not null and {{ column }} <> '' order by 1
    {%- endset -%}
    {{ return(run_query(query).columns[0].values() | list) }}
{%- endmacro %}

{#- Over all users and weeks, the activities scheduled add up to the live activities with a
    start time, and the opportunities created and won to the live opportunities with a
    creation time and the won ones (status 1) with a close date, as the raw tables hold them.
    Fails with a row per schema and measure that differs. -#}
{%- set activities = var('act__using_activities') -%}
{%- set opportunities = var('act__using_opportunities') -%}
{{ config(enabled=activities or opportunities or var('act__using_history')) }}
{%- set dated = "%s >= cast('0002-01-01 00:00:00' as " ~ dbt.type_timestamp() ~ ") and %s < cast('9999-01-01 00:00:00' as " ~ dbt.type_timestamp() ~ ")" -%}

with expected as (
    select
        cast(null as {{ dbt.type_string() }}) as source_schema,
        cast(null as {{ dbt.type_string() }}) as measure,
        0 as expected
    where 1 = 0
    {%- if activities %}
    union all
    select source_schema, 'activities_scheduled', count(*)
    from ({{ act.raw('activities', ['start_time', '_fivetran_deleted']) }}) as a
    where not coalesce(_fivetran_deleted, false) and {{ dated | replace('%s', 'start_time') }}
    group by source_schema
    {%- endif %}
    {%- if opportunities %}
    union all
    select source_schema, 'opportunities_created', count(*)
    from ({{ act.raw('opportunities', ['created', '_fivetran_deleted']) }}) as o
    where not coalesce(_fivetran_deleted, false) and {{ dated | replace('%s', 'created') }}
    group by source_schema
    union all
    select source_schema, 'opportunities_won', count(*)
    from ({{ act.raw('opportunities', ['status', 'actual_close_date', '_fivetran_deleted']) }}) as o
    where not coalesce(_fivetran_deleted, false)
        and cast(status as {{ dbt.type_string() }}) in ('1', 'Won')
        and {{ dated | replace('%s', 'actual_close_date') }}
    group by source_schema
    {%- endif %}
),
weekly as (
    select * from {{ ref('act__user_activity_weekly') }}
),
actual as (
    select source_schema, 'activities_scheduled' as measure, sum(activities_scheduled) as actual from weekly group by source_schema
    union all
    select source_schema, 'opportunities_created', sum(opportunities_created) from weekly group by source_schema
    union all
    select source_schema, 'opportunities_won', sum(opportunities_won) from weekly group by source_schema
)
select expected.*, actual.actual
from expected
left join actual
    on actual.source_schema = expected.source_schema and actual.measure = expected.measure
where actual.actual is null or actual.actual <> expected.expected

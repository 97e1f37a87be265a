{#- act__opportunity_enhanced holds every live opportunity once, and the line items of the won
    ones add up to what the raw tables hold. Fails with a row per schema that differs. -#}
{{ config(enabled=var('act__using_opportunities')) }}
{%- set line_items = var('act__using_opportunity_products') -%}

with opportunities as (
    {{ act.raw('opportunities', ['id', 'status', '_fivetran_deleted']) }}
),
{%- if line_items %}
line_items as (
    {{ act.raw('opportunity_products', ['opportunity_id', 'total', '_fivetran_deleted']) }}
),
won_items as (
    select i.source_schema, sum(i.total) as won_line_items_total
    from line_items as i
    inner join opportunities as o
        on o.source_schema = i.source_schema and o.id = i.opportunity_id
    where not coalesce(i._fivetran_deleted, false)
        and not coalesce(o._fivetran_deleted, false)
        and cast(o.status as {{ dbt.type_string() }}) in ('1', 'Won')
    group by i.source_schema
),
{%- endif %}
expected as (
    select source_schema, count(*) as opportunities
    from opportunities
    where not coalesce(_fivetran_deleted, false)
    group by source_schema
),
actual as (
    select
        source_schema,
        count(*) as opportunities,
        sum(case when status = 'Won' then line_items_total end) as won_line_items_total
    from {{ ref('act__opportunity_enhanced') }}
    group by source_schema
)
select
    expected.source_schema,
    expected.opportunities as expected_opportunities,
    actual.opportunities as actual_opportunities
from expected
left join actual on actual.source_schema = expected.source_schema
{%- if line_items %}
left join won_items on won_items.source_schema = expected.source_schema
{%- endif %}
where actual.opportunities is null
    or actual.opportunities <> expected.opportunities
    {%- if line_items %}
    or abs(coalesce(actual.won_line_items_total, 0) - coalesce(won_items.won_line_items_total, 0)) > 0.01
    {%- endif %}

{#- Revenue and units by product add up to the totals and quantities of the live line items of
    live won opportunities (status 1) in the raw tables. Fails with a row per schema that
    differs. -#}
{{ config(enabled=var('act__using_opportunities') and var('act__using_opportunity_products')) }}

with opportunities as (
    {{ act.raw('opportunities', ['id', 'status', '_fivetran_deleted']) }}
),
line_items as (
    {{ act.raw('opportunity_products', ['opportunity_id', 'quantity', 'total', '_fivetran_deleted']) }}
),
expected as (
    select i.source_schema, sum(i.total) as revenue, sum(i.quantity) as units
    from line_items as i
    inner join opportunities as o
        on o.source_schema = i.source_schema and o.id = i.opportunity_id
    where not coalesce(i._fivetran_deleted, false)
        and not coalesce(o._fivetran_deleted, false)
        and cast(o.status as {{ dbt.type_string() }}) in ('1', 'Won')
    group by i.source_schema
),
actual as (
    select source_schema, sum(revenue) as revenue, sum(units) as units
    from {{ ref('act__product_revenue') }}
    group by source_schema
)
select expected.*, actual.revenue as actual_revenue, actual.units as actual_units
from expected
left join actual on actual.source_schema = expected.source_schema
where actual.revenue is null
    or abs(actual.revenue - expected.revenue) > 0.01
    or abs(actual.units - expected.units) > 0.001

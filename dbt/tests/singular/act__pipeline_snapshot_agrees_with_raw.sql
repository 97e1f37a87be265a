{#- The snapshot counts every live open opportunity (status 0) once and sums its amount, as the
    raw table does. Fails with a row per schema that differs. -#}
{{ config(enabled=var('act__using_opportunities')) }}

with opportunities as (
    {{ act.raw('opportunities', ['id', 'status', 'product_total', '_fivetran_deleted']) }}
),
expected as (
    select source_schema, count(*) as opportunities, sum(product_total) as amount
    from opportunities
    where not coalesce(_fivetran_deleted, false)
        and cast(status as {{ dbt.type_string() }}) in ('0', 'Open')
    group by source_schema
),
actual as (
    select source_schema, sum(opportunities) as opportunities, sum(amount) as amount
    from {{ ref('act__pipeline_snapshot') }}
    group by source_schema
)
select expected.*, actual.opportunities as actual_opportunities, actual.amount as actual_amount
from expected
left join actual on actual.source_schema = expected.source_schema
where actual.opportunities is null
    or actual.opportunities <> expected.opportunities
    or abs(actual.amount - expected.amount) > 0.01

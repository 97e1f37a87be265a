{#- The open pipeline as it stands at build time: amount and count by process, stage, owner and
    expected close month. -#}
{{ config(enabled=var('act__using_opportunities')) }}

with open_opportunities as (

    select * from {{ ref('act__opportunity_enhanced') }}
    where status = 'Open'

)

select
    {{ act.key(['process_id', 'stage_id', 'owner_id', 'expected_close_month']) }} as pipeline_key,
    source_schema,
    process_id,
    max(process_name) as process_name,
    stage_id,
    max(stage_name) as stage_name,
    max(stage_number) as stage_number,
    max(stage_probability) as stage_probability,
    owner_id,
    max(owner_name) as owner_name,
    expected_close_month,
    count(*) as opportunities,
    sum(amount) as amount,
    sum(weighted_amount) as weighted_amount,
    sum(line_items_total) as line_items_total
from open_opportunities
group by source_schema, process_id, stage_id, owner_id, expected_close_month

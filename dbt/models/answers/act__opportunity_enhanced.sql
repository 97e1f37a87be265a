{#- Each opportunity with its process, stage, owner, related records counted, line items
    totalled, weighted amount, days open and won or lost date. Works with any table set: a
    stage, process or owner comes from its own table when synced, else from what the
    opportunity embeds; a count whose table is not synced is null. -#}
{{ config(enabled=var('act__using_opportunities')) }}
{%- set stages = var('act__using_opportunity_stages') -%}
{%- set processes = var('act__using_opportunity_processes') -%}
{%- set users = var('act__using_users') -%}
{%- set counted = {
    'contacts': var('act__using_opportunity_contacts'),
    'companies': var('act__using_opportunity_companies'),
    'groups': var('act__using_opportunity_groups'),
} -%}
{%- set line_items = var('act__using_opportunity_products') -%}

with opportunities as (

    select * from {{ ref('stg_act__opportunities') }}

),
{%- if stages %}

stages as (

    select * from {{ ref('stg_act__opportunity_stages') }}

),
{%- endif %}
{%- if processes %}

processes as (

    select * from {{ ref('stg_act__opportunity_processes') }}

),
{%- endif %}
{%- if users %}

users as (

    select * from {{ ref('stg_act__users') }}

),
{%- endif %}
{%- for related, synced in counted.items() if synced %}

{{ related }}_counted as (

    select source_schema, opportunity_id, count(*) as {{ related }}
    from {{ ref('stg_act__opportunity_' ~ related) }}
    group by source_schema, opportunity_id

),
{%- endfor %}
{%- if line_items %}

line_items as (

    select
        source_schema,
        opportunity_id,
        count(*) as line_items,
        sum(quantity) as line_item_units,
        sum(total) as line_items_total
    from {{ ref('stg_act__opportunity_products') }}
    group by source_schema, opportunity_id

),
{%- endif %}

joined as (

    select
        o.source_schema,
        o.opportunity_id,
        o.name as opportunity_name,
        o.status,
        o.status_code,
        {% if stages %}coalesce(s.process_id, o.stage_process_id){% else %}o.stage_process_id{% endif %} as process_id,
        coalesce(
            {% if processes %}p.name, {% endif %}{% if stages %}s.process_name, {% endif %}o.stage_process_name
        ) as process_name,
        o.stage_id,
        {% if stages %}coalesce(s.name, o.stage_name){% else %}o.stage_name{% endif %} as stage_name,
        {% if stages %}coalesce(s.number, o.stage_number){% else %}o.stage_number{% endif %} as stage_number,
        {% if stages %}coalesce(s.probability, o.stage_probability){% else %}o.stage_probability{% endif %} as stage_probability,
        o.record_manager_id as owner_id,
        {% if users %}coalesce(u.display_name, o.record_manager){% else %}o.record_manager{% endif %} as owner_name,
        {% if users %}u.email{% else %}cast(null as {{ dbt.type_string() }}){% endif %} as owner_email,
        {%- for related, synced in counted.items() %}
        {% if synced %}coalesce({{ related }}_counted.{{ related }}, 0){% else %}cast(null as {{ dbt.type_int() }}){% endif %} as {{ related }}_count,
        {%- endfor %}
        {% if line_items %}coalesce(li.line_items, 0){% else %}cast(null as {{ dbt.type_int() }}){% endif %} as line_items,
        {% if line_items %}coalesce(li.line_item_units, 0){% else %}cast(null as {{ dbt.type_float() }}){% endif %} as line_item_units,
        cast({% if line_items %}coalesce(li.line_items_total, 0){% else %}null{% endif %} as {{ act.type_money() }}) as line_items_total,
        o.product_total as amount,
        coalesce(o.probability, {% if stages %}s.probability, {% endif %}o.stage_probability) as probability,
        o.weighted_total as act_weighted_total,
        o.open_date,
        o.estimated_close_date,
        {{ act.month('o.estimated_close_date') }} as expected_close_month,
        case when o.status in ('Won', 'Lost') then o.actual_close_date end as closed_at,
        case when o.status = 'Won' then o.actual_close_date end as won_at,
        case when o.status = 'Lost' then o.actual_close_date end as lost_at,
        o.created,
        o.edited
    from opportunities as o
    {%- if stages %}
    left join stages as s
        on s.source_schema = o.source_schema and s.stage_id = o.stage_id
    {%- endif %}
    {%- if processes %}
    left join processes as p
        on p.source_schema = o.source_schema
        and p.process_id = {% if stages %}coalesce(s.process_id, o.stage_process_id){% else %}o.stage_process_id{% endif %}
    {%- endif %}
    {%- if users %}
    left join users as u
        on u.source_schema = o.source_schema and u.user_id = o.record_manager_id
    {%- endif %}
    {%- for related, synced in counted.items() if synced %}
    left join {{ related }}_counted
        on {{ related }}_counted.source_schema = o.source_schema
        and {{ related }}_counted.opportunity_id = o.opportunity_id
    {%- endfor %}
    {%- if line_items %}
    left join line_items as li
        on li.source_schema = o.source_schema and li.opportunity_id = o.opportunity_id
    {%- endif %}

)

select
    *,
    cast(amount * probability / 100.0 as {{ act.type_money() }}) as weighted_amount,
    {{ dbt.datediff('open_date', 'coalesce(closed_at, ' ~ act.utc_now() ~ ')', 'day') }} as days_open
from joined

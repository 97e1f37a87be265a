{#- Revenue by product and month: the line items of won opportunities, in the month each was
    won. Needs the line items (opportunity_products). -#}
{{ config(enabled=var('act__using_opportunities') and var('act__using_opportunity_products')) }}
{%- set products = var('act__using_products') -%}

with won as (

    select source_schema, opportunity_id, won_at
    from {{ ref('act__opportunity_enhanced') }}
    where status = 'Won'

),

line_items as (

    select * from {{ ref('stg_act__opportunity_products') }}

),
{%- if products %}

products as (

    select * from {{ ref('stg_act__products') }}

),
{%- endif %}

won_items as (

    select
        li.source_schema,
        coalesce(li.product_id, li.name) as product_id,
        {% if products %}coalesce(p.name, li.name){% else %}li.name{% endif %} as product_name,
        {% if products %}coalesce(p.item_number, li.item_number){% else %}li.item_number{% endif %} as item_number,
        {{ act.month('won.won_at') }} as revenue_month,
        li.opportunity_id,
        li.quantity,
        li.price,
        li.total
    from line_items as li
    inner join won
        on won.source_schema = li.source_schema and won.opportunity_id = li.opportunity_id
    {%- if products %}
    left join products as p
        on p.source_schema = li.source_schema and p.product_id = li.product_id
    {%- endif %}

)

select
    {{ act.key(['product_id', 'revenue_month']) }} as product_month_key,
    source_schema,
    product_id,
    max(product_name) as product_name,
    max(item_number) as item_number,
    revenue_month,
    count(*) as line_items,
    count(distinct opportunity_id) as won_opportunities,
    sum(quantity) as units,
    cast(sum(quantity * price) as {{ act.type_money() }}) as list_value,
    cast(sum(total) as {{ act.type_money() }}) as revenue
from won_items
group by source_schema, product_id, revenue_month

{#- Per contact: activities and history items (counted, the last one, and counted by type),
    open opportunities and groups. Each part needs its tables (activities and
    activity_contacts; history and history_contacts; opportunity_contacts; group_contacts): a
    part whose tables are not synced is null. -#}
{{ config(enabled=var('act__using_contacts')) }}
{%- set parts = {
    'activity': var('act__using_activities') and var('act__using_activity_contacts'),
    'history': var('act__using_history') and var('act__using_history_contacts'),
} -%}
{%- set opportunities = var('act__using_opportunities') and var('act__using_opportunity_contacts') -%}
{%- set groups = var('act__using_group_contacts') -%}
{%- set sources = {
    'activity': {'link': 'activity_contacts', 'records': 'activities', 'key': 'activity_id',
                 'type': 'activity_type_name', 'at': 'start_time', 'plural': 'activities'},
    'history': {'link': 'history_contacts', 'records': 'history', 'key': 'history_id',
                'type': 'history_type_name', 'at': 'start_time', 'plural': 'history_items'},
} -%}

with contacts as (

    select * from {{ ref('stg_act__contacts') }}

),
{%- for part, synced in parts.items() if synced %}
{%- set s = sources[part] %}
{%- set types = act.type_names(ref('stg_act__' ~ s.records), s.type) %}

{{ part }}_items as (

    select
        link.source_schema,
        link.contact_id,
        record.{{ s.type }} as type_name,
        record.{{ s.at }} as happened_at
    from {{ ref('stg_act__' ~ s.link) }} as link
    inner join {{ ref('stg_act__' ~ s.records) }} as record
        on record.source_schema = link.source_schema and record.{{ s.key }} = link.{{ s.key }}

),

{{ part }}_summary as (

    select
        source_schema,
        contact_id,
        count(*) as {{ s.plural }},
        max(case when happened_at <= {{ act.utc_now() }} then happened_at end) as last_{{ part }}_at
        {%- for name in types %}
        , sum(case when type_name = '{{ name | replace("'", "''") }}' then 1 else 0 end) as {{ s.plural }}_{{ act.slug(name) }}
        {%- endfor %}
    from {{ part }}_items
    group by source_schema, contact_id

),
{%- endfor %}
{%- if opportunities %}

open_opportunities as (

    select link.source_schema, link.contact_id, count(*) as open_opportunities, sum(o.amount) as open_amount
    from {{ ref('stg_act__opportunity_contacts') }} as link
    inner join {{ ref('act__opportunity_enhanced') }} as o
        on o.source_schema = link.source_schema and o.opportunity_id = link.opportunity_id
    where o.status = 'Open'
    group by link.source_schema, link.contact_id

),
{%- endif %}
{%- if groups %}

memberships as (

    select source_schema, contact_id, count(*) as group_count
    from {{ ref('stg_act__group_contacts') }}
    group by source_schema, contact_id

),
{%- endif %}

engagement as (

    select
        c.source_schema,
        c.contact_id,
        c.full_name,
        c.company,
        c.company_id,
        c.email_address,
        c.record_manager_id as owner_id,
        c.record_manager as owner_name,
        {%- for part, synced in parts.items() %}
        {%- set s = sources[part] %}
        {%- if synced %}
        coalesce({{ part }}_summary.{{ s.plural }}, 0) as {{ s.plural }},
        {{ part }}_summary.last_{{ part }}_at,
        {%- for name in act.type_names(ref('stg_act__' ~ s.records), s.type) %}
        coalesce({{ part }}_summary.{{ s.plural }}_{{ act.slug(name) }}, 0) as {{ s.plural }}_{{ act.slug(name) }},
        {%- endfor %}
        {%- else %}
        cast(null as {{ dbt.type_int() }}) as {{ s.plural }},
        cast(null as {{ dbt.type_timestamp() }}) as last_{{ part }}_at,
        {%- endif %}
        {%- endfor %}
        {% if opportunities %}coalesce(open_opportunities.open_opportunities, 0){% else %}cast(null as {{ dbt.type_int() }}){% endif %} as open_opportunities,
        cast({% if opportunities %}coalesce(open_opportunities.open_amount, 0){% else %}null{% endif %} as {{ act.type_money() }}) as open_amount,
        {% if groups %}coalesce(memberships.group_count, 0){% else %}cast(null as {{ dbt.type_int() }}){% endif %} as group_count
    from contacts as c
    {%- for part, synced in parts.items() if synced %}
    left join {{ part }}_summary
        on {{ part }}_summary.source_schema = c.source_schema
        and {{ part }}_summary.contact_id = c.contact_id
    {%- endfor %}
    {%- if opportunities %}
    left join open_opportunities
        on open_opportunities.source_schema = c.source_schema
        and open_opportunities.contact_id = c.contact_id
    {%- endif %}
    {%- if groups %}
    left join memberships
        on memberships.source_schema = c.source_schema and memberships.contact_id = c.contact_id
    {%- endif %}

)

select
    *,
    {%- set lasts = [] %}
    {%- for part, synced in parts.items() if synced %}{% do lasts.append('last_' ~ part ~ '_at') %}{% endfor %}
    {%- if lasts | length == 2 %}
    case when last_activity_at is null or last_history_at > last_activity_at
        then last_history_at else last_activity_at end as last_contacted_at
    {%- elif lasts | length == 1 %}
    {{ lasts[0] }} as last_contacted_at
    {%- else %}
    cast(null as {{ dbt.type_timestamp() }}) as last_contacted_at
    {%- endif %}
from engagement

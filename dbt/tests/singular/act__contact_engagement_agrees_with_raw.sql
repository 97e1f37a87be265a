{#- One row per live contact, and (where activities are synced) as many activities as the raw
    tables link live activities to live contacts. Fails with a row per schema that differs. -#}
{{ config(enabled=var('act__using_contacts')) }}
{%- set activities = var('act__using_activities') and var('act__using_activity_contacts') -%}

with contacts as (
    {{ act.raw('contacts', ['id', '_fivetran_deleted']) }}
),
{%- if activities %}
activities as (
    {{ act.raw('activities', ['id', '_fivetran_deleted']) }}
),
links as (
    {{ act.raw('activity_contacts', ['activity_id', 'contact_id', '_fivetran_deleted']) }}
),
linked as (
    select l.source_schema, count(*) as activities
    from links as l
    inner join activities as a on a.source_schema = l.source_schema and a.id = l.activity_id
    inner join contacts as c on c.source_schema = l.source_schema and c.id = l.contact_id
    where not coalesce(l._fivetran_deleted, false)
        and not coalesce(a._fivetran_deleted, false)
        and not coalesce(c._fivetran_deleted, false)
    group by l.source_schema
),
{%- endif %}
expected as (
    select source_schema, count(*) as contacts
    from contacts
    where not coalesce(_fivetran_deleted, false)
    group by source_schema
),
actual as (
    select source_schema, count(*) as contacts, sum(activities) as activities
    from {{ ref('act__contact_engagement') }}
    group by source_schema
)
select expected.*, actual.contacts as actual_contacts
from expected
left join actual on actual.source_schema = expected.source_schema
{%- if activities %}
left join linked on linked.source_schema = expected.source_schema
{%- endif %}
where actual.contacts is null
    or actual.contacts <> expected.contacts
    {%- if activities %}
    or coalesce(actual.activities, 0) <> coalesce(linked.activities, 0)
    {%- endif %}

{#- Per user per week: activities scheduled for them (by start time) and those cleared,
    history items they recorded (by creation), opportunities they own that were created and
    that were won. A user is matched to the users table by id, else by display name (Act!
    names users by display name in many places); unmatched, by the id or name the record
    carries. -#}
{%- set activities = var('act__using_activities') -%}
{%- set history = var('act__using_history') -%}
{%- set opportunities = var('act__using_opportunities') -%}
{%- set users = var('act__using_users') -%}
{{ config(enabled=activities or history or opportunities) }}
{%- set measures = ['activities_scheduled', 'activities_cleared', 'history_recorded',
                    'opportunities_created', 'opportunities_won'] -%}

{#- What each kind of event counts toward, the other measures 0. -#}
{%- set counts = {
    'activities': {'activities_scheduled': '1',
                   'activities_cleared': 'case when is_cleared then 1 else 0 end'},
    'history': {'history_recorded': '1'},
    'created': {'opportunities_created': '1'},
    'won': {'opportunities_won': '1'},
} -%}

with events as (
    {%- set branches = [] %}
    {%- if activities %}{% do branches.append('activities') %}{% endif %}
    {%- if history %}{% do branches.append('history') %}{% endif %}
    {%- if opportunities %}{% do branches.append('created') %}{% do branches.append('won') %}{% endif %}
    {%- for branch in branches %}
    {%- if branch == 'activities' %}

    select
        source_schema, scheduled_for_id as user_ref_id, scheduled_for as user_ref_name,
        start_time as happened_at,
        {%- for m in measures %}
        {{ counts[branch].get(m, '0') }} as {{ m }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ ref('stg_act__activities') }}
    where start_time is not null
    {%- elif branch == 'history' %}

    select
        source_schema, create_user_id as user_ref_id, create_user_name as user_ref_name,
        created as happened_at,
        {%- for m in measures %}
        {{ counts[branch].get(m, '0') }} as {{ m }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ ref('stg_act__history') }}
    where created is not null
    {%- elif branch == 'created' %}

    select
        source_schema, owner_id as user_ref_id, owner_name as user_ref_name,
        created as happened_at,
        {%- for m in measures %}
        {{ counts[branch].get(m, '0') }} as {{ m }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ ref('act__opportunity_enhanced') }}
    where created is not null
    {%- else %}

    select
        source_schema, owner_id as user_ref_id, owner_name as user_ref_name,
        won_at as happened_at,
        {%- for m in measures %}
        {{ counts[branch].get(m, '0') }} as {{ m }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ ref('act__opportunity_enhanced') }}
    where won_at is not null
    {%- endif %}
    {%- if not loop.last %}

    union all
    {%- endif %}
    {%- endfor %}

),
{%- if users %}

users as (

    select * from {{ ref('stg_act__users') }}

),

users_by_name as (

    {#- Only display names that name one user. -#}
    select source_schema, display_name, min(user_id) as user_id
    from users
    where display_name is not null
    group by source_schema, display_name
    having count(*) = 1

),
{%- endif %}

resolved as (

    select
        e.source_schema,
        {%- if users %}
        coalesce(by_id.user_id, by_name.user_id, e.user_ref_id, e.user_ref_name) as user_id,
        coalesce(by_id.display_name, e.user_ref_name) as user_name,
        {%- else %}
        coalesce(e.user_ref_id, e.user_ref_name) as user_id,
        e.user_ref_name as user_name,
        {%- endif %}
        {{ act.week('e.happened_at') }} as week_start,
        e.{{ measures | join(', e.') }}
    from events as e
    {%- if users %}
    left join users as by_id
        on by_id.source_schema = e.source_schema and by_id.user_id = e.user_ref_id
    left join users_by_name as by_name
        on by_id.user_id is null
        and by_name.source_schema = e.source_schema
        and by_name.display_name = e.user_ref_name
    {%- endif %}

)

select
    {{ act.key(['user_id', 'week_start']) }} as user_week_key,
    source_schema,
    user_id,
    max(user_name) as user_name,
    week_start,
    {%- for m in measures %}
    sum({{ m }}) as {{ m }}{% if not loop.last %},{% endif %}
    {%- endfor %}
from resolved
group by source_schema, user_id, week_start

{#- Keys are unique within each Act! database: with union_schemas, two databases may hold the
    same id, so each test joins on source_schema too. -#}

{% test unique_per_schema(model, column_name) %}
select source_schema, {{ column_name }}, count(*) as rows_with_this_key
from {{ model }}
where {{ column_name }} is not null
group by source_schema, {{ column_name }}
having count(*) > 1
{% endtest %}

{% test related_per_schema(model, column_name, to, field) %}
{#- Every live row's reference points at a live row of `to` in the same schema. -#}
select child.source_schema, child.{{ column_name }}
from {{ model }} as child
left join {{ to }} as parent
    on parent.source_schema = child.source_schema
    and parent.{{ field }} = child.{{ column_name }}
where child.{{ column_name }} is not null
    and parent.{{ field }} is null
{% endtest %}

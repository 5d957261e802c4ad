{#- Schemas are named after the layer (reference, staging, intermediate, marts), not prefixed with
    the target schema, so the warehouse reads the same in every environment. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name if custom_schema_name else target.schema }}
{%- endmacro %}

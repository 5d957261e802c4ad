{#- Rebuild the indicators as they stood at a moment: with var as_of set ('YYYY-MM-DD' or
    'YYYY-MM-DD HH:MM:SS'), only what had been received by then counts. Empty: everything. -#}
{% macro as_of_filter(column) -%}
    {%- set as_of = var('as_of', '') | string -%}
    {%- if as_of -%}
        {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}( [0-9]{2}:[0-9]{2}(:[0-9]{2})?)?', as_of) -%}
            {{ exceptions.raise_compiler_error("as_of must be YYYY-MM-DD[ HH:MM[:SS]], got " ~ as_of) }}
        {%- endif -%}
        where {{ column }} <= timestamp '{{ as_of if ' ' in as_of else as_of ~ ' 23:59:59' }}'
    {%- endif -%}
{%- endmacro %}

{#- The date "now" means for a build: the as_of date when set, else today. -#}
{% macro as_of_date() -%}
    {%- set as_of = var('as_of', '') | string -%}
    {%- if as_of -%} date '{{ as_of[:10] }}' {%- else -%} current_date {%- endif -%}
{%- endmacro %}

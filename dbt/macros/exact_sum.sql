{#- A sum that does not depend on the order its rows arrive in. DuckDB sums doubles in parallel
    and in no fixed order, so two builds of the same data could differ in the last bit, and a
    score at x.x5 round either way and publish other ranks (seen at 2,000 bodies). Each term is
    rounded to 18 decimals (the same for the same value, always) and the terms are summed
    exactly as a DECIMAL; the total is a double again. `over`: a window, for a rolling sum. -#}
{% macro exact_sum(value, over=none) -%}
    cast(sum(cast({{ value }} as decimal(38, 18))){% if over %} over {{ over }}{% endif %} as double)
{%- endmacro %}

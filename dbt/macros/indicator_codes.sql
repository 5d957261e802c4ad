{#- The indicator columns every headline model carries, in dictionary order. Their definitions
    (names, polarity, weights) live in seeds/indicator_dictionary.csv; the test
    indicator_dictionary_matches_models keeps the two lists equal. -#}
{% macro indicator_codes() -%}
    {{ return(['online_take_up', 'online_availability', 'digital_by_default_rate',
               'letters_per_1000', 'digital_contact_share']) }}
{%- endmacro %}

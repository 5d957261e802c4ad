"""The Jinja2 environment every publication is rendered with."""

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


def template_environment(html: bool = False) -> Environment:
    """Square-bracket delimiters ([[ ]], [% %], [# #]): Evidence pages use `{#each}` and
    `{...}`, and dbt docs use `{% docs %}`, as their own syntax. `html=True` escapes every
    value, for pages people open in a browser."""
    return Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        block_start_string="[%",
        block_end_string="%]",
        variable_start_string="[[",
        variable_end_string="]]",
        comment_start_string="[#",
        comment_end_string="#]",
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        autoescape=html,
    )

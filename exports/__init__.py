"""Publications: Jinja2 templates (templates/) and the code that renders them from the warehouse."""

"""Rule lists (YAML) and the jinja2 template that turn them into AWS Config conformance packs."""

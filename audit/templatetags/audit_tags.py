from django import template

register = template.Library()


def _words(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(_words(v) for v in value) or "none"
    if isinstance(value, dict):
        return "; ".join(f"{k} {_words(v)}" for k, v in value.items() if v not in (None, "", [], {}))
    return str(value)


@register.filter
def readable(query) -> str:
    """An audit record's details as words ("list Stolen; plate ABC123; hits only no"), not a dictionary."""
    if not isinstance(query, dict):
        return "" if query is None else str(query)
    parts = []
    for key, value in sorted(query.items()):  # PostgreSQL (jsonb) keeps no key order: sort for every database
        if value in (None, "", [], {}):
            continue
        parts.append(f"{key.replace('_', ' ')}: {_words(value)}")
    return "; ".join(parts)

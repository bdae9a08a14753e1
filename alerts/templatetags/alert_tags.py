from django import template
from django.utils.html import format_html_join

register = template.Library()


@register.simple_tag
def plate_diff(text: str, differences, side: str):
    """The plate with the characters that differ between read and entry wrapped in <span class="diff">."""
    key, skip = ("position", "deletion") if side == "read" else ("entry_position", "insertion")
    marked = {d.get(key) for d in differences or [] if d.get("kind") != skip}
    return format_html_join(
        "", '<span class="{}">{}</span>', (("diff" if i in marked else "", ch) for i, ch in enumerate(text))
    )

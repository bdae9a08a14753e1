"""Test helpers for the auditor's pages."""

from types import SimpleNamespace


def token(client) -> dict:
    """The session-bound search token that the search page puts in its form (as a query parameter)."""
    from audit.services import search_token

    session = client.session
    request = SimpleNamespace(user=SimpleNamespace(pk=int(session["_auth_user_id"])), session=session)
    return {"t": search_token(request)}

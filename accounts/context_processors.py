from .roles import ADMIN, AUDITOR, OFFICER, user_roles


def roles(request):
    held = user_roles(request.user)
    return {
        "is_officer": OFFICER in held,
        "is_admin": ADMIN in held,
        "is_auditor": AUDITOR in held,
        "user_roles": sorted(held),
    }

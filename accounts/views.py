from django.contrib import messages
from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from audit.services import do_log

from .forms import UserCreateForm, UserRoleForm
from .roles import ADMIN, role_required, user_roles
from .services import do_create_user, do_set_active, do_set_role

User = get_user_model()


@role_required(ADMIN)
def user_list(request):
    from .forms import AgencySecurityForm
    from .models import AgencySecurity, Security

    agency = AgencySecurity.current()
    form = AgencySecurityForm(request.POST or None, initial={"require_totp_for_admins": agency.require_totp_for_admins})
    if request.method == "POST" and form.is_valid():
        agency.require_totp_for_admins = form.cleaned_data["require_totp_for_admins"]
        agency.save()
        do_log(request, "agency.security", query=form.cleaned_data)
        messages.success(request, "Login rules saved.")
        return redirect("accounts:users")
    users = User.objects.prefetch_related("groups").order_by("username")
    with_totp = set(Security.objects.filter(totp_enabled=True).values_list("user_id", flat=True))
    rows = [
        {"user": u, "roles": ", ".join(sorted(g.name for g in u.groups.all())), "totp": u.pk in with_totp}
        for u in users
    ]
    return render(request, "accounts/users.html", {"rows": rows, "agency_form": form})


@role_required(ADMIN)
def user_create(request):
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        do_create_user(data["username"], data["password"], data["role"], email=data["email"], validate=False)
        do_log(request, "user.create", query={"user": data["username"], "role": data["role"]})
        messages.success(request, f"User {data['username']} created as {data['role']}.")
        return redirect("accounts:users")
    return render(request, "accounts/user_form.html", {"form": form, "title": "New user"})


@role_required(ADMIN)
def user_edit(request, pk: int):
    target = get_object_or_404(User, pk=pk)
    current = next(iter(sorted(user_roles(target))), None)
    form = UserRoleForm(request.POST or None, initial={"role": current, "active": target.is_active})
    if request.method == "POST" and form.is_valid():
        if target == request.user and (not form.cleaned_data["active"] or form.cleaned_data["role"] != ADMIN):
            messages.error(request, "You cannot remove your own admin role or deactivate yourself.")
        else:
            do_set_role(target, form.cleaned_data["role"])
            do_set_active(target, form.cleaned_data["active"])
            if form.cleaned_data["unlock"]:
                from .lockout import unlock

                unlock(target)
            if form.cleaned_data["reset_second_factor"]:
                from .models import Security

                Security.objects.filter(user=target).update(totp_enabled=False, totp_secret="", totp_last_step=None)
            do_log(
                request,
                "user.change",
                query={
                    "user": target.username,
                    "role": form.cleaned_data["role"],
                    "active": form.cleaned_data["active"],
                    "unlock": form.cleaned_data["unlock"],
                    "reset_second_factor": form.cleaned_data["reset_second_factor"],
                },
            )
            messages.success(request, f"User {target.username} saved.")
            return redirect("accounts:users")
    return render(
        request, "accounts/user_form.html", {"form": form, "title": f"User {target.username}", "target": target}
    )


@require_POST
@role_required(ADMIN)
def user_reset_password(request, pk: int):
    """A one-time password for a user, shown once; the user must change it at the next login."""
    from .services import do_reset_password

    target = get_object_or_404(User, pk=pk)
    password = do_reset_password(target)
    do_log(request, "user.password_reset", query={"user": target.username})
    return render(request, "accounts/password_reset.html", {"target": target, "password": password})

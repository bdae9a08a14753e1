from django.contrib import messages
from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404, redirect, render

from .forms import UserCreateForm, UserRoleForm
from .roles import ADMIN, role_required, user_roles
from audit.services import do_log

from .services import do_create_user, do_set_active, do_set_role

User = get_user_model()


@role_required(ADMIN)
def user_list(request):
    users = User.objects.prefetch_related("groups").order_by("username")
    rows = [{"user": u, "roles": ", ".join(sorted(g.name for g in u.groups.all()))} for u in users]
    return render(request, "accounts/users.html", {"rows": rows})


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
            do_log(request, "user.change", query={"user": target.username, "role": form.cleaned_data["role"],
                                                  "active": form.cleaned_data["active"]})
            messages.success(request, f"User {target.username} saved.")
            return redirect("accounts:users")
    return render(request, "accounts/user_form.html", {"form": form, "title": f"User {target.username}"})

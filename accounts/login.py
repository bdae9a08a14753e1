"""Login with lockout and an optional TOTP second step."""

from __future__ import annotations

import time

from django import forms
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme

from audit.services import append, client_ip

from . import lockout, totp
from .models import Security

PENDING = "alpr_pending_2fa"
PENDING_SECONDS = 300


class LockoutAuthenticationForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "locked": "Too many failed logins. This account is locked for 15 minutes; an admin can unlock it.",
    }

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        if not username:
            return super().clean()
        ip = client_ip(self.request)
        count = lockout.begin(username, ip)  # counted before the password is checked: guesses cannot race past
        if count is None:
            append(action="login.locked", username=username[:150], ip=ip)
            raise forms.ValidationError(self.error_messages["locked"], code="locked")
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            if count == lockout.USER_LIMIT:
                append(action="login.lockout", username=username[:150], ip=ip)
            raise
        lockout.succeeded(username, ip)
        return cleaned


class AlprLoginView(LoginView):
    template_name = "registration/login.html"
    form_class = LockoutAuthenticationForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        security = Security.objects.filter(user=user).first()
        if security is not None and security.totp_enabled:
            self.request.session[PENDING] = {
                "user": user.pk,
                "backend": user.backend,
                "next": self.get_success_url(),
                "at": time.time(),
            }
            return redirect("login-verify")
        return super().form_valid(form)


SECOND_FACTOR_LOCKED = "Too many wrong codes. Your second factor is locked for 15 minutes; an admin can unlock it."


class CodeForm(forms.Form):
    code = forms.CharField(
        max_length=8,
        label="Code from your authenticator app",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


@login_not_required
def login_verify(request):
    pending = request.session.get(PENDING)
    if not pending or time.time() - pending["at"] > PENDING_SECONDS:
        request.session.pop(PENDING, None)
        return redirect("login")
    user = get_user_model().objects.filter(pk=pending["user"], is_active=True).first()
    if user is None:
        return redirect("login")
    form = CodeForm(request.POST or None)
    ip = client_ip(request)
    if request.method == "POST" and form.is_valid():
        security = Security.of(user)
        count = lockout.begin_second_factor(user.pk)  # its own count: a right password does not reset it
        if count is None:
            append(action="login.locked", username=user.get_username(), ip=ip, query={"factor": "totp"})
            form.add_error(None, SECOND_FACTOR_LOCKED)
        else:
            step = totp.verify(security.totp_secret, form.cleaned_data["code"], last_step=security.totp_last_step)
            if step is None:
                append(action="login.failed", username=user.get_username(), ip=ip, query={"factor": "totp"})
                if count == lockout.SECOND_FACTOR_LIMIT:
                    append(action="login.lockout", username=user.get_username(), ip=ip, query={"factor": "totp"})
                form.add_error("code", "That code is wrong or was already used.")
            else:
                lockout.second_factor_succeeded(user.pk)
                security.totp_last_step = step
                security.save(update_fields=["totp_last_step"])
                del request.session[PENDING]
                login(request, user, backend=pending["backend"])
                target = pending["next"]
                if not url_has_allowed_host_and_scheme(target, {request.get_host()}):
                    target = "/"
                return redirect(target)
    return render(request, "registration/login_verify.html", {"form": form})


def second_factor(request):
    """Set up (or switch off) TOTP for the logged-in user."""
    security = Security.of(request.user)
    if not security.totp_secret or (not security.totp_enabled and request.GET.get("new")):
        security.totp_secret = totp.new_secret()
        security.save(update_fields=["totp_secret"])
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        step = totp.verify(security.totp_secret, form.cleaned_data["code"], last_step=security.totp_last_step)
        if step is None:
            form.add_error("code", "That code is wrong; check the clock of the device.")
        else:
            security.totp_last_step = step
            turning_on = not security.totp_enabled
            if not turning_on:
                from .models import AgencySecurity
                from .roles import ADMIN, has_role

                if has_role(request.user, ADMIN) and AgencySecurity.current().require_totp_for_admins:
                    form.add_error(None, "The agency requires a second factor for admins.")
                    return render(request, "accounts/second_factor.html", _context(security, form, request))
            security.totp_enabled = turning_on
            if not turning_on:
                security.totp_secret = ""
            security.save(update_fields=["totp_last_step", "totp_enabled", "totp_secret"])
            append(action="user.totp_on" if turning_on else "user.totp_off", user=request.user, ip=client_ip(request))
            return redirect("second-factor")
    return render(request, "accounts/second_factor.html", _context(security, form, request))


def _context(security, form, request):
    from django.utils.safestring import mark_safe

    uri = totp.provisioning_uri(security.totp_secret, request.user.get_username()) if security.totp_secret else ""
    qr = ""
    if uri and not security.totp_enabled:
        import segno

        # An SVG made here from the key alone (no user input in it): safe to put in the page as it is.
        qr = mark_safe(segno.make(uri, error="m").svg_inline(scale=5, title="Second factor key as a QR code"))
    return {"security": security, "form": form, "uri": uri, "qr": qr}


class RequireAdminTotpMiddleware:
    """When the agency requires it, admins without a second factor can only set one up."""

    ALLOWED = ("/account/2fa/", "/account/password/", "/logout/", "/static/", "/login/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not request.path.startswith(self.ALLOWED):
            from .models import AgencySecurity
            from .roles import ADMIN, has_role

            if (
                has_role(user, ADMIN)
                and AgencySecurity.current().require_totp_for_admins
                and not Security.objects.filter(user=user, totp_enabled=True).exists()
            ):
                return redirect("second-factor")
        return self.get_response(request)


class RequirePasswordChangeMiddleware:
    """A user whose password an admin reset can only choose a new one (or log out) first. The login
    notes it in the session (accounts/signals.py): no query on each request."""

    ALLOWED = ("/account/password/", "/account/2fa/", "/logout/", "/static/", "/login/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from .signals import MUST_CHANGE_PASSWORD

        if request.session.get(MUST_CHANGE_PASSWORD) and not request.path.startswith(self.ALLOWED):
            return redirect("password-change")
        return self.get_response(request)


def password_change(request):
    """The logged-in user changes their own password (the old one, then the new one twice)."""
    from django.contrib import messages
    from django.contrib.auth import update_session_auth_hash
    from django.contrib.auth.forms import PasswordChangeForm

    from .services import do_change_password
    from .signals import MUST_CHANGE_PASSWORD

    forced = bool(request.session.get(MUST_CHANGE_PASSWORD))
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        do_change_password(request.user, form.cleaned_data["new_password1"])
        update_session_auth_hash(request, request.user)  # stay logged in here; other sessions end
        request.session.pop(MUST_CHANGE_PASSWORD, None)
        append(action="user.password_change", user=request.user, ip=client_ip(request))
        messages.success(request, "Your password was changed.")
        return redirect("home")
    return render(
        request, "accounts/password_change.html", {"form": form, "forced": forced}, status=400 if form.errors else 200
    )

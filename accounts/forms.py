from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password

from .roles import ROLES

User = get_user_model()


class UserCreateForm(forms.Form):
    username = forms.CharField(max_length=150)
    email = forms.EmailField(required=False)
    role = forms.ChoiceField(choices=[(r, r) for r in ROLES])
    password = forms.CharField(
        widget=forms.PasswordInput, help_text="At least 10 characters, not common, not all digits."
    )

    def clean_username(self):
        from .services import UsernameTaken, check_username_free

        try:
            return check_username_free(self.cleaned_data["username"])
        except UsernameTaken as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if data.get("password") and data.get("username"):
            try:
                validate_password(data["password"], User(username=data["username"], email=data.get("email", "")))
            except forms.ValidationError as exc:
                self.add_error("password", exc)
        return data


class UserRoleForm(forms.Form):
    role = forms.ChoiceField(choices=[(r, r) for r in ROLES])
    active = forms.BooleanField(required=False)
    unlock = forms.BooleanField(required=False, label="Clear failed logins (unlock)")
    reset_second_factor = forms.BooleanField(required=False, label="Reset the second factor (lost phone)")


class AgencySecurityForm(forms.Form):
    require_totp_for_admins = forms.BooleanField(required=False, label="Admins must use a second factor")

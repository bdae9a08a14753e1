from django import forms

from cameras.models import Camera
from hotlist.models import Hotlist

from .models import Alert


class DispositionForm(forms.Form):
    disposition = forms.ChoiceField(choices=Alert.Disposition.choices)
    note = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self):
        data = super().clean()
        if data.get("disposition") == Alert.Disposition.OTHER and not (data.get("note") or "").strip():
            self.add_error("note", "Say what happened.")
        return data


class WatchForm(forms.Form):
    cameras = forms.ModelMultipleChoiceField(queryset=Camera.objects.all(), required=False,
                                             widget=forms.CheckboxSelectMultiple, help_text="None ticked: all cameras.")
    hotlists = forms.ModelMultipleChoiceField(queryset=Hotlist.objects.none(), required=False,
                                              widget=forms.CheckboxSelectMultiple, help_text="None ticked: all lists.")

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        from accounts.roles import ADMIN, has_role
        from django.db.models import Q

        lists = Hotlist.objects.all()
        if not has_role(user, ADMIN):
            lists = lists.filter(Q(covert=False) | Q(visible_to=user)).distinct()
        self.fields["hotlists"].queryset = lists

from django import forms
from django.core.validators import validate_email

from accounts.roles import ADMIN

from .models import Delivery


class DeliveryForm(forms.ModelForm):
    class Meta:
        model = Delivery
        fields = ["kind", "name", "recipients", "url", "active"]
        widgets = {"recipients": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, hotlist=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.hotlist = hotlist

    def clean(self):
        super().clean()
        data = self.cleaned_data
        kind = data.get("kind")
        if kind == Delivery.Kind.EMAIL:
            addresses = [a.strip() for a in (data.get("recipients") or "").replace(",", "\n").splitlines() if a.strip()]
            if not addresses:
                self.add_error("recipients", "Name at least one recipient.")
            for address in addresses:
                try:
                    validate_email(address)
                except forms.ValidationError:
                    self.add_error("recipients", f"{address!r} is not an email address.")
            if self.hotlist is not None and self.hotlist.covert and addresses:
                outside = self._outside_audience(addresses)
                if outside:
                    self.add_error(
                        "recipients", "A covert list mails only its admins and chosen users; not: " + ", ".join(outside)
                    )
            data["url"] = ""
        elif kind == Delivery.Kind.WEBHOOK:
            if self.hotlist is not None and self.hotlist.covert:
                self.add_error("kind", "A covert list never delivers to a webhook.")
            if not data.get("url"):
                self.add_error("url", "Give the receiver's address.")
            data["recipients"] = ""
        return data

    def _outside_audience(self, addresses: list[str]) -> list[str]:
        from django.contrib.auth import get_user_model
        from django.db.models import Q

        users = (
            get_user_model()
            .objects.filter(is_active=True)
            .filter(Q(groups__name=ADMIN) | Q(covert_hotlists=self.hotlist))
        )
        allowed = {e.lower() for e in users.values_list("email", flat=True) if e}
        return [a for a in addresses if a.lower() not in allowed]

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.roles import ADMIN, role_required
from audit.services import do_log
from hotlist.models import Hotlist

from .forms import DeliveryForm
from .models import Delivery, DeliveryAttempt
from .services import new_secret


@role_required(ADMIN)
def list_deliveries(request, hotlist_pk: int):
    """A list's deliveries (email, webhooks), a form to add one, and their latest tries."""
    hotlist = get_object_or_404(Hotlist, pk=hotlist_pk)
    form = DeliveryForm(request.POST or None, hotlist=hotlist)
    if request.method == "POST" and form.is_valid():
        delivery = form.save(commit=False)
        delivery.hotlist = hotlist
        if delivery.kind == Delivery.Kind.WEBHOOK:
            delivery.secret = new_secret()
        delivery.save()
        do_log(
            request,
            "delivery.create",
            query={
                "list": hotlist.name,
                "kind": delivery.kind,
                "name": delivery.name,
                "recipients": delivery.addresses(),
                "url": delivery.url,
            },
        )
        messages.success(request, f"{delivery} added to {hotlist.name}.")
        return redirect("deliveries:list", hotlist_pk=hotlist.pk)
    deliveries = hotlist.deliveries.all()
    attempts = DeliveryAttempt.objects.filter(delivery__hotlist=hotlist).select_related("delivery", "alert")[:50]
    return render(
        request,
        "deliveries/list.html",
        {"hotlist": hotlist, "form": form, "deliveries": deliveries, "attempts": attempts},
        status=400 if form.errors else 200,
    )


@require_POST
@role_required(ADMIN)
def remove_delivery(request, pk: int):
    delivery = get_object_or_404(Delivery.objects.select_related("hotlist"), pk=pk)
    hotlist = delivery.hotlist
    # Stopped, not deleted: its tries stay on record.
    Delivery.objects.filter(pk=delivery.pk).update(active=False)
    do_log(request, "delivery.stop", query={"list": hotlist.name, "kind": delivery.kind, "name": delivery.name})
    messages.success(request, f"{delivery} stopped; its past tries stay listed.")
    return redirect("deliveries:list", hotlist_pk=hotlist.pk)


@role_required(ADMIN)
def attempts(request):
    """Every delivery try, newest first."""
    rows = DeliveryAttempt.objects.select_related("delivery__hotlist", "alert")[:200]
    return render(request, "deliveries/attempts.html", {"attempts": rows})

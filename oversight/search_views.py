"""Auditors' read search: results page (table, map, chart) and CSV export. Every run is audit-logged."""

from __future__ import annotations

import csv

from django.conf import settings
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from accounts.roles import AUDITOR, role_required
from audit.services import do_log, has_search_token, search_token
from config import clock

from .forms import ReadSearchForm
from .search import (
    COUNT_CAP,
    EXPORT_CAP,
    PAGE_SIZE,
    SearchSpec,
    aggregates,
    capped_count,
    explain,
    frame_images,
    hits_for,
    page_of,
    search_reads,
)

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    """A CSV cell that spreadsheets will not run as a formula. Numbers stay numbers (-74.01, not '-74.01)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_START):
        return "'" + text
    return text


def _page_number(request) -> int:
    try:
        return max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return 1


@role_required(AUDITOR)
def read_search(request):
    params = request.GET.copy()
    params.pop("page", None)
    form = ReadSearchForm(params or None, user=request.user)
    ctx = {
        "form": form,
        "results": None,
        "total": None,
        "page": PAGE_SIZE,
        "page_size": PAGE_SIZE,
        "tile_url": getattr(settings, "SEARCH_MAP_TILE_URL", ""),
        "search_token": search_token(request),
    }
    if params and form.is_valid() and not has_search_token(request, params):
        # A link from elsewhere (or an old bookmark): show the search filled in, run it only when confirmed.
        ctx["confirm"] = True
    elif params and form.is_valid():
        data = form.cleaned_data
        spec = SearchSpec.from_form(data)
        qs = search_reads(spec=spec, user=request.user)
        total, capped = capped_count(qs)
        page = _page_number(request)
        last_page = max(1, -(-total // PAGE_SIZE))
        page = min(page, last_page)
        results = page_of(qs, page)
        hits = hits_for(request.user, [r.pk for r in results])
        for r in results:
            r.hits = hits.get(r.pk, [])
            r.hit_lists = ", ".join(h["list"] for h in r.hits)
            r.match = explain(r, spec) if spec.lenient else None
        agg = aggregates(qs, request.user)
        do_log(
            request,
            "search.reads",
            query={**form.audit_query(), "page": page},
            reason=data["reason"],
            result_count=total,
        )
        query_string = params.urlencode()
        ctx.update(
            results=results,
            total=total,
            capped=capped,
            count_cap=COUNT_CAP,
            page_number=page,
            last_page=last_page,
            has_prev=page > 1,
            has_next=page < last_page,
            query_string=query_string,
            map_points=agg["map"],
            chart=agg["chart"],
            aggregates={k: agg[k] for k in ("sampled", "sample_capped")},
            lenient=spec.lenient,
        )
    return render(request, "audit/search.html", ctx)


class _Echo:
    def write(self, value):
        return value


def _export_rows(qs, user, capped: bool, base: str = ""):
    """CSV rows; ``base`` (the site's address) makes the frame, crop and alert links absolute."""
    from django.urls import reverse

    writer = csv.writer(_Echo())
    yield writer.writerow(
        [
            "read_id",
            f"captured_at ({clock.zone_name()})",
            "plate",
            "confidence",
            "candidates",
            "camera",
            "latitude",
            "longitude",
            "hit_lists",
            "crop",
            "frame_url",
            "crop_url",
            "alert_urls",
        ]
    )
    batch = []

    def flush(batch):
        hits = hits_for(user, [r.pk for r in batch])
        images = frame_images(batch)
        out = []
        for r in batch:
            cam = r.camera
            cands = " ".join(
                f"{c[0]}:{c[1]}" for c in (r.candidates or []) if isinstance(c, (list, tuple)) and len(c) >= 2
            )
            read_hits = hits.get(r.pk, [])
            row = [
                r.pk,
                clock.local_iso(r.captured_at),
                r.text,
                round(r.confidence, 3),
                cands,
                cam.name,
                cam.latitude,
                cam.longitude,
                "; ".join(h["list"] for h in read_hits),
                r.crop.name if r.crop else "",
                base + reverse("media", args=[images[r.frame_id]]) if images.get(r.frame_id) else "",
                base + reverse("media", args=[r.crop.name]) if r.crop else "",
                " ".join(sorted({base + reverse("alerts:detail", args=[h["alert"]]) for h in read_hits})),
            ]
            out.append(writer.writerow([safe_cell(v) for v in row]))
        return "".join(out)

    for read in qs[:EXPORT_CAP].iterator(chunk_size=2000):
        batch.append(read)
        if len(batch) >= 1000:
            yield flush(batch)
            batch = []
    if batch:
        yield flush(batch)
    if capped:
        yield writer.writerow([safe_cell(f"# export capped at {EXPORT_CAP} rows; narrow the search for the rest")])


@role_required(AUDITOR)
def export_csv(request):
    form = ReadSearchForm(request.GET or None, user=request.user)
    if not request.GET or not form.is_valid():
        errors = form.errors.as_text() if request.GET else "A reason and a case number are required."
        return HttpResponseBadRequest("Export refused: " + errors, content_type="text/plain; charset=utf-8")
    if not has_search_token(request, request.GET):
        return HttpResponseBadRequest(
            "Export refused: start the export from the search page.", content_type="text/plain; charset=utf-8"
        )
    data = form.cleaned_data
    spec = SearchSpec.from_form(data)
    qs = search_reads(spec=spec, user=request.user)
    total, capped = capped_count(qs, EXPORT_CAP)
    do_log(request, "export.reads", query=form.audit_query(), reason=data["reason"], result_count=total)
    base = request.build_absolute_uri("/").rstrip("/")
    response = StreamingHttpResponse(
        _export_rows(qs, request.user, capped, base), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="reads-{stamp}.csv"'
    return response

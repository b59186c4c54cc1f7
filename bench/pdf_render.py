"""Benchmark: a ~10-page rescission recommendation vs a minimal one-page document, rendered by
the same pipeline (Jinja → WeasyPrint → PDF/A-3b with a JSON attachment) in one process.

    .venv/bin/python bench/pdf_render.py [--runs 5] [--cases 6] [--write /tmp/bench.pdf]

Prints the seconds per document and per page for both and the per-page ratio (aim: < 3×).
No database: the recommendation's view-model is built from synthetic rows (pure functions).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("CASETRACKER_SECRET_KEY", "bench-secret-key-0123456789-0123456789")
os.environ.setdefault("CASETRACKER_VAR_DIR", "/tmp/casetracker-bench")  # noqa: S108 - scratch

from pypdf import PdfReader

from casetracker.reports import document, rendering


def synthetic_source(n_cases: int) -> document.RecommendationSource:
    now = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    officers = []
    for i in range(3):
        officers.append({"officer": i + 1, "officer_name": f"Officer Number{i + 1} Example",
                         "badge_number": f"GC-{4400 + i}", "rank": "Deputy",
                         "authorised_on": date(2021, 3, 1),
                         "authorisation_expires_on": date(2027, 3, 1),
                         "training_completed_on": date(2021, 2, 12),
                         "last_refresher_on": date(2024, 5, 2),
                         "status": "active"})
    cases = []
    for c in range(n_cases):
        received = now - timedelta(days=200 - c * 10)
        allegations = [{
            "allegation_type": t, "protected_characteristic": "ethnicity",
            "officer_label": officers[k % 3]["officer_name"],
            "description": "Stopped and questioned about immigration status without cause.",
            "final_finding": "sustained", "final_at": received + timedelta(days=60),
            "final_rationale": ("The body-camera recording, the dispatch log and two independent "
                                "witnesses establish that the stop had no lawful basis and that "
                                "the officer asked only the Latino passengers for papers. ") * 3,
        } for k, t in enumerate(("racial_profiling", "unlawful_stop", "search"))]
        evidence = [{
            "id": c * 10 + e, "description": f"Body-camera video, part {e + 1}",
            "source": "agency",
            "received_at": received + timedelta(days=4),
            "sha256": hashlib.sha256(f"{c}-{e}".encode()).hexdigest(),
            "custody_summary": "received 2026-05-02 09:12 UTC by investigator@example.org; "
                               "verified 2026-06-01 10:00 UTC by system",
        } for e in range(4)]
        cases.append({
            "tracking_number": f"CT-BNCH{c:04d}", "received_at": received,
            "incident_date": (received - timedelta(days=2)).date(),
            "incident_location": "FM 646",
            "incident_city": "Dickinson", "incident_state": "TX",
            "incident_setting": "traffic_stop",
            "narrative": "I was driving home from work when I was stopped. " * 12,
            "contact": {"name": f"Complainant {c}"}, "allegations": allegations,
            "evidence": evidence, "triage_due_at": received + timedelta(days=7),
            "triaged_at": received + timedelta(days=1),
            "ice_notification_due_at": received + timedelta(days=2),
            "ice_notified_at": received + timedelta(days=3),
            "resolution_due_at": received + timedelta(days=90),
            "resolved_at": received + timedelta(days=60),
            "results_due_at": received + timedelta(days=90),
            "results_reported_at": received + timedelta(days=70),
        })
    rec = {"kind": "officers", "action": "revocation", "status": "issued",
           "classification": "sensitive", "number": "RR-2026-0042", "issued_at": now,
           "version": 1, "addressee": "Field Office Director, ICE ERO Houston",
           "sender": "287(g) Oversight Office", "subject": "Recommendation to revoke authority",
           "summary": "Investigations sustained allegations. " * 8,
           "grounds": "\n".join(f"- Case CT-BNCH{c:04d}: racial profiling, sustained."
                                 for c in range(n_cases)),
           "requested_action": "Retrieve the officers' credentials.",
           "proposed_effective_on": date(2026, 12, 1), "author": 1, "approved_by": 2,
           "created_at": now, "approved_at": now, "issued_by": 1}
    return document.RecommendationSource(
        recommendation=rec, agency={"name": "Galveston County Sheriff's Office", "state": "TX"},
        agreement={"model": "JEM", "signed_on": date(2020, 6, 8), "status": "active",
                   "moa_url": "https://www.ice.gov/doclib/287gMOA/x.pdf",
                   "designated_officers": 12},
        officers=officers, cases=cases,
        pattern={"window_start": now - timedelta(days=365), "window_end": now,
                 "targets": [{"subject": o["officer_name"], "complaints": 4,
                              "sustained_profiling": 2} for o in officers],
                 "peers": {"label": "Other officers", "count": 9, "complaints": 5,
                           "sustained_profiling": 0}},
        people={1: {"name": "Olivia Oversight", "role": "oversight"},
                2: {"name": "Sam Supervisor", "role": "supervisor"}},
        now=now)


def timed(fn, runs: int) -> tuple[float, bytes]:
    fn()  # warm-up: fonts, stylesheet parse caches
    times, out = [], b""
    for _ in range(runs):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cases", type=int, default=6)
    parser.add_argument("--write", default="")
    args = parser.parse_args()

    doc = document.build(synthetic_source(args.cases))
    payload = document.document_json(doc)
    minimal = {"title": "Minimal", "number": "", "running_header": "Minimal",
               "classification": "Public", "classification_public": True,
               "organisation": "287(g) Oversight Office", "subtitle": "", "date_label": "",
               "paragraphs": ["One paragraph of text."]}

    def big() -> bytes:
        html = rendering.render_html("recommendation.html.j2", {"doc": doc})
        return rendering.html_to_pdf(html, title="bench", attachment_json=payload)

    def small() -> bytes:
        html = rendering.render_html("minimal.html.j2", {"doc": minimal})
        return rendering.html_to_pdf(html, title="minimal", attachment_json={"x": 1})

    small_s, small_pdf = timed(small, args.runs)
    big_s, big_pdf = timed(big, args.runs)
    small_pages = len(PdfReader(io.BytesIO(small_pdf)).pages)
    big_pages = len(PdfReader(io.BytesIO(big_pdf)).pages)
    if args.write:
        Path(args.write).write_bytes(big_pdf)
    per_small, per_big = small_s / small_pages, big_s / big_pages
    print(f"minimal document : {small_pages:2d} page(s) {small_s:6.3f} s  {per_small:6.3f} s/page")
    print(f"recommendation   : {big_pages:2d} page(s) {big_s:6.3f} s  {per_big:6.3f} s/page")
    print(f"per-page ratio   : {per_big / per_small:.2f}x (aim < 3x); median of {args.runs} runs")


if __name__ == "__main__":
    main()

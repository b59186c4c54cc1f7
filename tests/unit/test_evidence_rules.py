"""Pure evidence rules: sniffing, refusals, safe names and types, ranges; Spanish messages."""

from __future__ import annotations

import pytest
from babel.messages.extract import extract_from_file

from casetracker.evidence.rules import (
    RangeNotSatisfiable,
    RefusedFile,
    clean_original_name,
    content_disposition,
    generated_filename,
    parse_range,
    safe_content_type,
    sniff,
)
from casetracker.settings import PROJECT_ROOT
from casetracker.web import i18n
from tests.factories_evidence import ELF_BYTES, HTML_BYTES, PE_BYTES, SVG_BYTES, png_bytes


@pytest.mark.parametrize(("head", "kind", "content_type"), [
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "image", "image/png"),
    (b"\xff\xd8\xff\xe0" + b"\x00" * 20, "image", "image/jpeg"),
    (b"GIF89a" + b"\x00" * 20, "image", "image/gif"),
    (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image", "image/webp"),
    (b"\x00\x00\x00\x18ftypmp42\x00\x00", "video", "video/mp4"),
    (b"\x00\x00\x00\x14ftypqt  \x00\x00", "video", "video/quicktime"),
    (b"\x00\x00\x00\x18ftypheic", "image", "image/heic"),
    (b"\x1a\x45\xdf\xa3\x00webm", "video", "video/webm"),
    (b"ID3\x03\x00", "audio", "audio/mpeg"),
    (b"RIFF\x00\x00\x00\x00WAVEfmt ", "audio", "audio/wav"),
    (b"OggS\x00\x02", "audio", "audio/ogg"),
    (b"%PDF-1.7\n", "pdf", "application/pdf"),
    (b"PK\x03\x04" + b"\x00" * 26 + b"[Content_Types].xml word/document.xml", "document",
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 8, "document", "application/x-ole-storage"),
    (b"Officer badge 4471, 3 a.m., Route 9.\n", "text", "text/plain"),
    ("Declaración del testigo: «me pidieron papeles»\n".encode(), "text", "text/plain"),
    (bytes(range(256)) * 4, "other", "application/octet-stream"),
])
def test_kinds_come_from_the_bytes(head: bytes, kind: str, content_type: str) -> None:
    result = sniff(head, "whatever.name", "application/octet-stream")
    assert (result.kind, result.content_type) == (kind, content_type)


@pytest.mark.parametrize(("head", "name", "declared"), [
    (HTML_BYTES, "page.txt", "text/plain"),
    (b"   <HTML><body>hi</body></HTML>", "a.txt", ""),
    (b"\xef\xbb\xbf<!doctype html>", "a.txt", ""),
    (SVG_BYTES, "map.png", "image/png"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "drawing.txt", ""),
    (ELF_BYTES, "photo.jpg", "image/jpeg"),
    (PE_BYTES, "photo.jpg", "image/jpeg"),
    (b"\xcf\xfa\xed\xfe\x07\x00", "clip.mp4", "video/mp4"),
    (b"#!/usr/bin/env python\nprint(1)\n", "notes.txt", "text/plain"),
    (b"just text", "script.js", "text/plain"),
    (b"just text", "report.HTML", "text/plain"),
    (b"just text", "evil.svg", "text/plain"),
    (b"just text", "tool.exe", "application/octet-stream"),
    (b"just text", "notes.txt", "text/html"),
    (b"just text", "notes.txt", "image/svg+xml"),
])
def test_active_content_is_refused_whatever_its_name(head: bytes, name: str, declared: str
                                                     ) -> None:
    with pytest.raises(RefusedFile):
        sniff(head, name, declared)


def test_a_real_png_is_a_pillow_candidate() -> None:
    assert sniff(png_bytes()[:8192], "x.png").pil_candidate


@pytest.mark.parametrize(("stored", "kind", "served"), [
    ("text/html", "text", "application/octet-stream"),
    ("image/svg+xml", "image", "application/octet-stream"),
    ("text/plain", "text", "text/plain; charset=utf-8"),
    ("video/mp4", "video", "video/mp4"),
    ("", "other", "application/octet-stream"),
    ("application/x-foo\r\nSet-Cookie: x", "other", "application/octet-stream"),
])
def test_safe_content_type(stored: str, kind: str, served: str) -> None:
    assert safe_content_type(stored, kind) == served


def test_names() -> None:
    assert clean_original_name("../../etc/passwd") == "passwd"
    assert clean_original_name("C:\\Users\\x\\..\\photo.jpg") == "photo.jpg"
    assert clean_original_name("a\x00b\r\nc.txt") == "abc.txt"
    assert clean_original_name(".htaccess") == "htaccess"
    assert generated_filename(7, "video/mp4") == "evidence-7.mp4"
    assert generated_filename(7, "application/x-unknown") == "evidence-7.bin"
    value = content_disposition("attachment", "evidence-7.txt", 'a"b;c\r\n.txt')
    assert value.startswith('attachment; filename="evidence-7.txt"; filename*=UTF-8\'\'')
    assert '"' not in value.split("filename*=")[1] and "\r" not in value


@pytest.mark.parametrize(("header", "size", "expected"), [
    (None, 100, None), ("bytes=0-9", 100, (0, 9)), ("bytes=90-", 100, (90, 99)),
    ("bytes=-10", 100, (90, 99)), ("bytes=50-500", 100, (50, 99)),
    ("bytes=0-1,5-9", 100, None), ("items=0-1", 100, None),
])
def test_ranges(header: str | None, size: int, expected: tuple[int, int] | None) -> None:
    assert parse_range(header, size) == expected


@pytest.mark.parametrize("header", ["bytes=100-", "bytes=5-2", "bytes=-0", "bytes=x-y"])
def test_unsatisfiable_ranges(header: str) -> None:
    with pytest.raises(RangeNotSatisfiable):
        parse_range(header, 100)


def test_every_evidence_string_has_a_spanish_translation() -> None:
    """The ingest messages reach the public form too: they must exist in Spanish."""
    sources = [(p, "python") for p in sorted((PROJECT_ROOT / "casetracker" / "evidence"
                                              ).glob("*.py"))]
    sources += [(p, "jinja2") for p in sorted((PROJECT_ROOT / "templates" / "evidence"
                                               ).glob("*.j2"))]
    spanish = i18n.translations("es")
    missing = []
    for path, method in sources:
        options = {"extensions": "jinja2.ext.i18n"} if method == "jinja2" else {}
        for _line, message, _comments, _context in extract_from_file(
                method, str(path), keywords={"_": None}, options=options):
            if isinstance(message, str) and spanish.gettext(message) == message \
                    and message not in {"ICE", "PDF", "Audio", "Video", "bytes", "video"}:
                missing.append(f"{path.name}: {message}")
    assert not missing, missing


def test_refusal_reasons_and_kinds_are_translated() -> None:
    from casetracker.evidence.ingest import KIND_LABELS

    spanish = i18n.translations("es")
    for label in KIND_LABELS.values():
        if label not in {"PDF", "video"}:
            assert spanish.gettext(label) != label, label
    for reason in ("a web page, SVG or script", "an executable program (ELF)", "a script",
                   "a type that could run as a program or web page"):
        assert spanish.gettext(reason) != reason

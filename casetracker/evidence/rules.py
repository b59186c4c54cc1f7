"""Pure rules for evidence: type sniffing from the first bytes, safe names and content types,
HTTP byte ranges. No I/O."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

KINDS = ("image", "video", "audio", "pdf", "document", "text", "other")
ALL_KINDS = frozenset(KINDS)
SNIFF_BYTES = 8192

# Raster formats a browser may show inline, once Pillow has opened them (PIL format names).
PREVIEW_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif",
                   "WEBP": "image/webp"}

# Never served from our origin, never accepted.
UNSAFE_CONTENT_TYPES = frozenset({
    "text/html", "application/xhtml+xml", "image/svg+xml", "application/xml", "text/xml",
    "application/javascript", "text/javascript", "application/ecmascript", "text/ecmascript",
    "application/x-sh", "application/x-msdownload", "application/x-executable",
    "application/vnd.microsoft.portable-executable", "application/x-httpd-php",
    "application/hta", "text/x-python", "application/x-python-code", "text/x-shellscript",
    "application/java-archive", "application/x-msi", "application/wasm", "text/vbscript",
    "application/x-mach-binary", "application/x-elf", "message/rfc822+html", "multipart/related",
})

DANGEROUS_EXTENSIONS = frozenset({
    "html", "htm", "xhtml", "xht", "shtml", "mht", "mhtml", "svg", "svgz", "xml", "xsl", "xslt",
    "js", "mjs", "cjs", "jsx", "vbs", "vbe", "wsf", "wsh", "hta", "ps1", "psm1", "bat",
    "cmd", "com", "exe", "dll", "scr", "msi", "msp", "cpl", "jar", "sh", "bash", "zsh", "csh",
    "py", "pyc", "pl", "rb", "php", "phtml", "asp", "aspx", "jsp", "cgi", "elf", "so",
    "dylib", "apk", "dmg", "lnk", "reg", "swf", "wasm", "appimage",
})


class RefusedFile(Exception):
    """The file is not acceptable whatever its name (HTML, SVG, scripts, executables)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Sniffed:
    kind: str
    content_type: str
    pil_candidate: bool = False  # a raster image header: prove it with Pillow


_HTML_MARKERS = (b"<!doctype", b"<html", b"<script", b"<head", b"<body", b"<iframe", b"<svg",
                 b"<?xml", b"<frameset", b"<object", b"<embed", b"<meta", b"<style", b"<link",
                 b"<img", b"<form", b"<base", b"<xsl:", b"<math", b"<?php", b"<!entity")

_EXEC_MAGIC = (
    (b"\x7fELF", "an executable program (ELF)"),
    (b"MZ", "an executable program (Windows)"),
    (b"\xfe\xed\xfa\xce", "an executable program (Mach-O)"),
    (b"\xfe\xed\xfa\xcf", "an executable program (Mach-O)"),
    (b"\xce\xfa\xed\xfe", "an executable program (Mach-O)"),
    (b"\xcf\xfa\xed\xfe", "an executable program (Mach-O)"),
    (b"\xca\xfe\xba\xbe", "an executable program"),
    (b"\x00asm", "a WebAssembly program"),
    (b"L\x00\x00\x00\x01\x14\x02\x00", "a Windows shortcut"),
)


def extension(filename: str) -> str:
    name = filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def _text_head(head: bytes) -> str | None:
    """The head decoded as text, or None when it looks binary."""
    if not head:
        return ""
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None
    for encoding in ("utf-8", "utf-16"):
        try:
            if encoding == "utf-16" and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
                continue
            # the head may cut a multi-byte character in two
            text = head.decode(encoding, errors="strict" if len(head) < SNIFF_BYTES else "ignore")
            break
        except UnicodeDecodeError:
            continue
    else:
        try:
            text = head.decode("cp1252")
        except UnicodeDecodeError:
            return None
    controls = sum(1 for ch in text
                   if unicodedata.category(ch) == "Cc" and ch not in "\r\n\t\f\x1b")
    return None if controls > max(2, len(text) // 100) else text


def _refuse_markup(text: str) -> None:
    lowered = text.lstrip("\ufeff \t\r\n").lower().encode("utf-8", "ignore")
    if lowered.startswith(b"#!"):
        raise RefusedFile("a script")
    # Browsers sniff markup anywhere near the start; tolerate whitespace inside the tag name.
    compact = re.sub(rb"<\s+", b"<", lowered[:SNIFF_BYTES])
    if any(marker in compact for marker in _HTML_MARKERS):
        raise RefusedFile("a web page, SVG or script")


def sniff(head: bytes, filename: str = "", declared_type: str = "") -> Sniffed:
    """Decide kind and content type from the first bytes; raise RefusedFile for active content.

    The name and declared type are only used to refuse (never to accept)."""
    declared = (declared_type or "").split(";", 1)[0].strip().lower()
    if extension(filename) in DANGEROUS_EXTENSIONS:
        raise RefusedFile("a type that could run as a program or web page")
    if declared in UNSAFE_CONTENT_TYPES:
        raise RefusedFile("a type that could run as a program or web page")
    for magic, label in _EXEC_MAGIC:
        if head.startswith(magic):
            raise RefusedFile(label)

    h = head
    # images
    if h.startswith(b"\x89PNG\r\n\x1a\n"):
        return Sniffed("image", "image/png", True)
    if h.startswith(b"\xff\xd8\xff"):
        return Sniffed("image", "image/jpeg", True)
    if h.startswith((b"GIF87a", b"GIF89a")):
        return Sniffed("image", "image/gif", True)
    if h[:4] == b"RIFF" and h[8:12] == b"WEBP":
        return Sniffed("image", "image/webp", True)
    if h.startswith((b"II*\x00", b"MM\x00*")):
        return Sniffed("image", "image/tiff", True)
    if h.startswith(b"BM") and len(h) > 14:
        return Sniffed("image", "image/bmp", True)
    # ISO base media (mp4, mov, m4a, heic, 3gp)
    if h[4:8] == b"ftyp":
        brand = h[8:12]
        if brand in (b"heic", b"heix", b"mif1", b"msf1", b"heim", b"heis", b"avif"):
            return Sniffed("image", "image/avif" if brand == b"avif" else "image/heic")
        if brand in (b"M4A ", b"M4B ", b"M4P "):
            return Sniffed("audio", "audio/mp4")
        if brand == b"qt  ":
            return Sniffed("video", "video/quicktime")
        if brand.startswith(b"3g"):
            return Sniffed("video", "video/3gpp")
        return Sniffed("video", "video/mp4")
    if h.startswith(b"\x1a\x45\xdf\xa3"):
        return Sniffed("video", "video/webm" if b"webm" in h[:64] else "video/x-matroska")
    if h[:4] == b"RIFF" and h[8:12] == b"AVI ":
        return Sniffed("video", "video/x-msvideo")
    if h.startswith(b"0&\xb2u\x8ef\xcf\x11"):
        return Sniffed("video", "video/x-ms-asf")
    if h.startswith(b"FLV\x01"):
        return Sniffed("video", "video/x-flv")
    if h.startswith(b"\x00\x00\x01\xba") or h.startswith(b"\x00\x00\x01\xb3"):
        return Sniffed("video", "video/mpeg")
    if len(h) > 376 and h[0] == 0x47 and h[188] == 0x47 and h[376] == 0x47:
        return Sniffed("video", "video/mp2t")
    # audio
    if h.startswith(b"ID3") or (len(h) > 1 and h[0] == 0xFF and h[1] & 0xE0 == 0xE0
                                and h[1] & 0x06 != 0):
        return Sniffed("audio", "audio/mpeg")
    if h[:4] == b"RIFF" and h[8:12] == b"WAVE":
        return Sniffed("audio", "audio/wav")
    if h.startswith(b"OggS"):
        return Sniffed("video" if b"theora" in h[:128] else "audio",
                       "video/ogg" if b"theora" in h[:128] else "audio/ogg")
    if h.startswith(b"fLaC"):
        return Sniffed("audio", "audio/flac")
    if h.startswith(b"#!AMR"):
        return Sniffed("audio", "audio/amr")
    if h[:4] == b"FORM" and h[8:12] in (b"AIFF", b"AIFC"):
        return Sniffed("audio", "audio/aiff")
    # documents
    if h.startswith(b"%PDF-"):
        return Sniffed("pdf", "application/pdf")
    if h.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return Sniffed("document", "application/x-ole-storage")
    if h.startswith(b"PK\x03\x04"):
        if b"mimetypeapplication/vnd.oasis.opendocument" in h[:200]:
            return Sniffed("document", "application/vnd.oasis.opendocument")
        if b"word/" in h:
            return Sniffed("document", "application/vnd.openxmlformats-officedocument"
                           ".wordprocessingml.document")
        if b"xl/" in h:
            return Sniffed("document", "application/vnd.openxmlformats-officedocument"
                           ".spreadsheetml.sheet")
        if b"ppt/" in h:
            return Sniffed("document", "application/vnd.openxmlformats-officedocument"
                           ".presentationml.presentation")
        if b"[Content_Types].xml" in h:
            return Sniffed("document", "application/vnd.openxmlformats-officedocument")
        return Sniffed("other", "application/zip")
    if h.startswith(b"{\\rtf"):
        return Sniffed("document", "application/rtf")
    if h.startswith(b"\x1f\x8b"):
        return Sniffed("other", "application/gzip")
    if h.startswith(b"7z\xbc\xaf\x27\x1c"):
        return Sniffed("other", "application/x-7z-compressed")
    if h.startswith(b"Rar!"):
        return Sniffed("other", "application/vnd.rar")

    text = _text_head(h)
    if text is not None:
        _refuse_markup(text)
        return Sniffed("text", "text/plain")

    kind, content_type = _puremagic_guess(h)
    return Sniffed(kind, content_type)


def _puremagic_guess(head: bytes) -> tuple[str, str]:
    """Name the type of something we do not know; it only ever becomes kind "other" or a
    media kind, and is served as an attachment."""
    try:
        import puremagic

        matches = puremagic.magic_string(head)
    except Exception:  # puremagic raises on no match
        return "other", "application/octet-stream"
    for match in matches:
        mime = (match.mime_type or "").lower()
        if not mime or match.confidence < 0.8:
            continue
        if mime in UNSAFE_CONTENT_TYPES or "html" in mime or "svg" in mime or "script" in mime:
            raise RefusedFile("a web page, SVG or script")
        if "executable" in mime or "msdownload" in mime:
            raise RefusedFile("an executable program")
        for prefix in ("video", "audio"):
            if mime.startswith(prefix + "/"):
                return prefix, mime
        return "other", "application/octet-stream"
    return "other", "application/octet-stream"


def safe_content_type(content_type: str, kind: str) -> str:
    """The type we answer with: never markup or script; text always as plain text."""
    ct = (content_type or "").split(";", 1)[0].strip().lower()
    if not ct or ct in UNSAFE_CONTENT_TYPES or "html" in ct or "svg" in ct or "xml" in ct \
            or "script" in ct:
        return "application/octet-stream"
    if kind == "text" or ct.startswith("text/"):
        return "text/plain; charset=utf-8"
    if not re.fullmatch(r"[a-z0-9.+-]+/[a-z0-9.+-]+", ct):
        return "application/octet-stream"
    return ct


_EXT_FOR = {
    "image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp",
    "image/tiff": "tif", "image/bmp": "bmp", "image/heic": "heic", "image/avif": "avif",
    "video/mp4": "mp4", "video/quicktime": "mov", "video/webm": "webm",
    "video/x-matroska": "mkv", "video/x-msvideo": "avi", "video/3gpp": "3gp",
    "video/mpeg": "mpg", "video/mp2t": "ts", "video/ogg": "ogv", "video/x-ms-asf": "wmv",
    "video/x-flv": "flv", "audio/mpeg": "mp3", "audio/wav": "wav", "audio/ogg": "ogg",
    "audio/flac": "flac", "audio/mp4": "m4a", "audio/amr": "amr", "audio/aiff": "aiff",
    "application/pdf": "pdf", "application/rtf": "rtf", "application/zip": "zip",
    "application/gzip": "gz", "text/plain": "txt",
}


def generated_filename(item_id: int, content_type: str) -> str:
    """The name a download gets: ours, never the uploader's."""
    ct = (content_type or "").split(";", 1)[0].strip().lower()
    ext = _EXT_FOR.get(ct, "bin")
    return f"evidence-{int(item_id)}.{ext}"


def clean_original_name(name: str | None) -> str:
    """The uploader's file name kept as data: no directories, no control characters."""
    if not name:
        return ""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = name.strip().lstrip(".") or "file"
    return name[:255]


def content_disposition(kind: str, generated: str, original: str) -> str:
    """``attachment; filename="<generated>"; filename*=UTF-8''<original>``."""
    from urllib.parse import quote

    value = f'{kind}; filename="{generated}"'
    original = clean_original_name(original)
    if original:
        value += "; filename*=UTF-8''" + quote(original, safe="")
    return value


class RangeNotSatisfiable(Exception):
    pass


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """One byte range from a Range header as (start, end) inclusive, or None for the whole
    file (no header, or several ranges, which we answer with the whole file)."""
    if not header:
        return None
    header = header.strip()
    if not header.lower().startswith("bytes="):
        return None
    spec = header[6:].strip()
    if "," in spec:
        return None
    match = re.fullmatch(r"(\d*)-(\d*)", spec)
    if not match or (match.group(1) == "" and match.group(2) == ""):
        raise RangeNotSatisfiable(header)
    first, last = match.groups()
    if first == "":
        length = int(last)
        if length == 0 or size == 0:
            raise RangeNotSatisfiable(header)
        return max(0, size - length), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if start >= size or end < start:
        raise RangeNotSatisfiable(header)
    return start, min(end, size - 1)


ACTION_LABELS = {
    "received": "received", "viewed": "viewed", "downloaded": "downloaded",
    "exported": "exported into a report", "verified": "verified",
    "verify_failed": "verification FAILED", "withdrawn": "withdrawn",
}


def human_readable_action(action: str) -> str:
    return ACTION_LABELS.get(action, action)

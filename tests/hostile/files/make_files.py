"""Write the hostile upload files of this folder again (they are kept in the repository;
run this only to change them): ``.venv/bin/python tests/hostile/files/make_files.py``.

Every file is made here from nothing (Pillow, zlib, zipfile, literal bytes), none is
downloaded. ``files.json`` says how each is sent and what the app must answer.
"""

from __future__ import annotations

import gzip
import io
import struct
import zipfile
import zlib
from pathlib import Path

from PIL import Image, PngImagePlugin

HERE = Path(__file__).resolve().parent
SCRIPT = b"<html><body><script>alert(document.cookie)</script></body></html>"


def _jpeg(size: tuple[int, int] = (64, 48), **options: object) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(buffer, "JPEG", quality=80, **options)
    return buffer.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def _png(size: tuple[int, int] = (32, 24), info: PngImagePlugin.PngInfo | None = None) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (40, 120, 200)).save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


def _text_info() -> PngImagePlugin.PngInfo:
    """A tEXt comment holding a script, which a browser sniffing the file might run."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", SCRIPT.decode())
    return info


def _jpeg_with_comment(comment: bytes) -> bytes:
    """A JPEG whose COM segment (right after SOI) holds ``comment``."""
    plain = _jpeg()
    segment = b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment
    return plain[:2] + segment + plain[2:]


def _jpeg_header_only(width: int, height: int) -> bytes:
    """SOI and a baseline SOF0 naming ``width`` x ``height``, then nothing: a decoder
    that trusted the header would allocate the whole picture."""
    sof = struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + b"\xff\xc0" + sof


def _png_bomb(side: int, keep_bytes: int | None) -> bytes:
    """A 1-bit black PNG of ``side`` x ``side``; with ``keep_bytes``, only the first
    bytes of its compressed pixels (the rest of a stream that would inflate to
    side*side/8 bytes), so that the file stays a few KB whatever the side."""
    row = b"\x00" + b"\x00" * ((side + 7) // 8)
    compressor = zlib.compressobj(9)
    chunks = []
    size = 0
    for _ in range(side):
        piece = compressor.compress(row)
        chunks.append(piece)
        size += len(piece)
        if keep_bytes is not None and size >= keep_bytes:
            break
    else:
        chunks.append(compressor.flush())
    pixels = b"".join(chunks)
    if keep_bytes is not None:
        pixels = pixels[:keep_bytes]
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", pixels)
        + _png_chunk(b"IEND", b"")
    )


def _png_ztxt_bomb(inflated: int) -> bytes:
    """A small PNG whose zTXt comment inflates to ``inflated`` bytes."""
    plain = _png((8, 8))
    text = _png_chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(b"A" * inflated, 9))
    return plain[:33] + text + plain[33:]  # after the signature and IHDR


def _zip_bomb(inflated: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("photo.bmp", b"\x00" * inflated)
    return buffer.getvalue()


def _pe_stub() -> bytes:
    """The first bytes of a Windows executable (DOS header and stub message): enough for
    anything that sniffs the type to call it a program; it runs nothing."""
    header = bytearray(64)
    header[0:2] = b"MZ"
    header[60:64] = struct.pack("<I", 64)
    return bytes(header) + b"This program cannot be run in DOS mode.\r\r\n$" + b"PE\x00\x00"


def _elf_stub() -> bytes:
    return b"\x7fELF\x02\x01\x01" + b"\x00" * 9 + b"\x02\x00\x3e\x00" + b"\x00" * 44


FILES: dict[str, bytes] = {
    "tiny.jpg": _jpeg((16, 12)),
    "truncated.jpg": _jpeg((640, 480))[:700],
    "truncated.png": _png((320, 240))[:120],
    "jpeg-cut-in-header.jpg": _jpeg()[:20],
    "jpeg-html-comment.jpg": _jpeg_with_comment(SCRIPT),
    "jpeg-html-trailer.jpg": _jpeg() + SCRIPT,
    "jpeg-zip-trailer.jpg": _jpeg() + _zip_bomb(1024),
    "png-html-text.png": _png(info=_text_info()),
    "gif-js-polyglot.gif": b"GIF89a/*\x01\x00\x01\x00\x00\xff\x00,*/=alert(document.domain);//"
    + b"\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x00;",
    "bomb-100-megapixels.png": _png_bomb(10_000, None),
    "bomb-30000-header.png": _png_bomb(30_000, 4096),
    "jpeg-65500-header.jpg": _jpeg_header_only(65_500, 65_500),
    "ztxt-bomb.png": _png_ztxt_bomb(16 * 1024 * 1024),
    "zip-bomb.jpg": _zip_bomb(16 * 1024 * 1024),
    "gzip-bomb.png": gzip.compress(b"\x00" * (16 * 1024 * 1024), 9),
    "script.svg": b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
    b"<script>alert(document.cookie)</script></svg>",
    "page.html": SCRIPT,
    "program.exe": _pe_stub(),
    "program.elf": _elf_stub(),
    "script.sh": b"#!/bin/sh\nrm -rf / --no-preserve-root\n",
    "javascript.pdf": b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R/OpenAction 3 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
    b"3 0 obj<</S/JavaScript/JS(app.alert(1))>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n",
}


def main() -> None:
    for name, data in FILES.items():
        (HERE / name).write_bytes(data)
        print(f"{name}: {len(data)} bytes")


if __name__ == "__main__":
    main()

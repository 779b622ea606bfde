"""Attachment uploads (DESIGN §7): the checks on real files, storage by content hash, rows."""

from __future__ import annotations

import hashlib
import io
import struct
import warnings
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import ExifTags, Image, PngImagePlugin

from caseapp.extensions import db
from caseapp.models import Attachment, CaseEvent
from caseapp.services.errors import NotFound, ValidationFailed
from caseapp.services.filing.attachments import (
    JPEG,
    MAX_BYTES,
    MAX_FILES,
    PDF,
    PNG,
    CheckedFile,
    Upload,
    attach_files,
    checked_uploads,
    open_attachment,
    remove_files,
    safe_filename,
    store_files,
)
from tests.factories import new_case

# --- files made here, byte for byte ---------------------------------------------------------

GPS = {1: "N", 2: (35.0, 1.0, 42.5), 3: "E", 4: (111.0, 0.0, 7.25)}


def jpeg(size: tuple[int, int] = (40, 20), mode: str = "RGB", **options: object) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, "red" if mode == "RGB" else 90).save(out, "JPEG", **options)
    return out.getvalue()


def jpeg_from_a_phone() -> bytes:
    """A photo taken on its side, with GPS in its EXIF, XMP and a comment."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Phone"
    exif[ExifTags.Base.Orientation] = 6  # rotate 90° clockwise to show upright
    exif[ExifTags.IFD.GPSInfo] = GPS
    return jpeg(
        (40, 20),
        exif=exif,
        xmp=b'<x:xmpmeta><rdf:Description exif:GPSLatitude="35,1.7N"/></x:xmpmeta>',
        comment=b"taken at home",
    )


def noisy_jpeg() -> bytes:
    out = io.BytesIO()
    Image.effect_noise((256, 256), 64).save(out, "JPEG", quality=95)
    return out.getvalue()


def png(size: tuple[int, int] = (16, 16), mode: str = "RGBA", **options: object) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size).save(out, "PNG", **options)
    return out.getvalue()


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_declaring(width: int, height: int) -> bytes:
    """A PNG header claiming ``width`` × ``height`` 1-bit pixels, with one row of data:
    a few hundred bytes that would take gigabytes to decode."""
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    row = b"\x00" * (1 + (width + 7) // 8)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(row))
        + png_chunk(b"IEND", b"")
    )


def jpeg_declaring(width: int, height: int) -> bytes:
    """A small JPEG whose frame header (SOF0) is changed to claim ``width`` × ``height``."""
    data = bytearray(jpeg((8, 8)))
    at = 2
    while data[at + 1] != 0xC0:
        at += 2 + int.from_bytes(data[at + 2 : at + 4], "big")
    data[at + 5 : at + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def gif() -> bytes:
    out = io.BytesIO()
    Image.new("P", (4, 4)).save(out, "GIF")
    return out.getvalue()


def pdf(*objects: bytes, padding: int = 0) -> bytes:
    """A small valid PDF (one empty page) with ``objects`` added as objects 4, 5, …"""
    catalog = b"<< /Type /Catalog /Pages 2 0 R" + (b" /OpenAction 4 0 R" if objects else b"")
    bodies = [
        catalog + b" >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
        *objects,
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    if padding:
        out += b"%" + b"x" * (padding - 2) + b"\n"
    offsets = []
    for number, body in enumerate(bodies, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(bodies) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(bodies) + 1,
        xref,
    )
    return bytes(out)


def pdf_of_size(size: int) -> bytes:
    padding = 1000
    while len(data := pdf(padding=padding)) != size:  # startxref may grow a digit
        padding += size - len(data)
    return data


def object_stream(packed: bytes, dictionary: bytes = b"/Type /ObjStm /N 1 /First 4") -> bytes:
    """A Flate-compressed object stream holding ``packed`` as object 5."""
    data = zlib.compress(b"5 0 " + packed)
    return b"<< %s /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream" % (
        dictionary,
        len(data),
        data,
    )


def pillow_pdf() -> bytes:
    """A PDF as a real writer (Pillow's) makes it: an image page, Flate streams."""
    out = io.BytesIO()
    Image.new("RGB", (30, 30), "blue").save(out, "PDF")
    return out.getvalue()


SCRIPT = b"<< /S /JavaScript /JS (app.alert('hi')) >>"
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
)
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48


def reopened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


# --- what is accepted, and how it is stored ---------------------------------------------------


def test_a_phone_photo_is_turned_upright_and_loses_its_location() -> None:
    original = jpeg_from_a_phone()
    assert reopened(original).getexif().get_ifd(ExifTags.IFD.GPSInfo) == GPS  # the premise

    [checked] = checked_uploads([Upload("IMG_0042.JPG", original)])

    assert (checked.filename, checked.content_type) == ("IMG_0042.jpg", JPEG)
    image = reopened(checked.data)
    assert image.format == "JPEG"
    assert image.size == (20, 40)
    assert dict(image.getexif()) == {}
    assert not image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert not {"exif", "xmp", "comment"} & set(image.info)
    for trace in (b"Exif\x00\x00", b"GPSLatitude", b"Phone", b"taken at home", b"xmpmeta"):
        assert trace not in checked.data
    assert checked.sha256 == hashlib.sha256(checked.data).hexdigest()
    assert checked.size == len(checked.data)


def test_a_png_is_reencoded_without_metadata_and_keeps_its_pixels() -> None:
    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", "taken at home")
    text.add_text("XML:com.adobe.xmp", '<x:xmpmeta exif:GPSLatitude="35,1.7N"/>')
    exif = Image.Exif()
    exif[ExifTags.IFD.GPSInfo] = GPS
    source = Image.new("RGBA", (8, 8), (10, 200, 30, 128))
    out = io.BytesIO()
    source.save(out, "PNG", pnginfo=text, exif=exif)

    [checked] = checked_uploads([Upload("map.png", out.getvalue())])

    image = reopened(checked.data)
    assert (checked.content_type, image.format, image.mode) == (PNG, "PNG", "RGBA")
    assert image.tobytes() == source.tobytes()
    assert dict(image.getexif()) == {}
    assert not {"Comment", "XML:com.adobe.xmp", "exif"} & set(image.info)
    for trace in (b"eXIf", b"tEXt", b"iTXt", b"taken at home", b"GPSLatitude"):
        assert trace not in checked.data


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
def test_a_photo_with_broken_exif_is_kept_without_it() -> None:
    junk = b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x05\xff\xff GPS here"
    data = jpeg()
    data = data[:2] + b"\xff\xe1" + struct.pack(">H", len(junk) + 2) + junk + data[2:]

    [checked] = checked_uploads([Upload("odd.jpg", data)])

    assert b"Exif" not in checked.data and b"GPS here" not in checked.data


def test_a_palette_png_keeps_its_transparency() -> None:
    [checked] = checked_uploads([Upload("icon.png", png((4, 4), "P", transparency=0))])

    image = reopened(checked.data)
    assert (image.mode, image.info.get("transparency")) == ("P", 0)


def test_a_cmyk_jpeg_is_stored_as_rgb() -> None:
    [checked] = checked_uploads([Upload("scan.jpg", jpeg((8, 8), "CMYK"))])

    assert reopened(checked.data).mode == "RGB"


def test_a_pdf_is_kept_as_sent() -> None:
    data = pdf()

    [checked] = checked_uploads([Upload("报告.pdf", data)])

    assert checked == CheckedFile(
        "报告.pdf", PDF, data, hashlib.sha256(data).hexdigest(), len(data)
    )


def test_a_pdf_named_like_a_photo_is_refused_as_the_wrong_file() -> None:
    # The content decides the type; a name that claims another type we know means the
    # citizen probably chose the wrong file, so it is refused with that reason.
    with pytest.raises(ValidationFailed) as refused:
        checked_uploads([Upload("photo.jpg", pdf())])
    assert "the name says JPEG but the file is a PDF file" in str(
        refused.value.field_errors["attachments"]
    )


def test_a_file_without_a_known_extension_is_named_by_its_content() -> None:
    [checked] = checked_uploads([Upload("scan", pdf())])

    assert (checked.content_type, checked.filename) == (PDF, "scan.pdf")


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(pillow_pdf(), id="written-by-pillow"),
        pytest.param(pdf(object_stream(b"<< /Title (note) >>")), id="harmless-object-stream"),
        pytest.param(pdf(b"<< /Type /Action /S /URI /URI (https://example.org/) >>"), id="link"),
        pytest.param(
            pdf(b"<< /Subtype /Image /Length 12 >>\nstream\n\xff/JS]\x00/JSON(\nendstream"),
            id="js-lookalike-bytes-in-image-data",
        ),
    ],
)
def test_ordinary_pdfs_are_accepted(data: bytes) -> None:
    [checked] = checked_uploads([Upload("document.pdf", data)])

    assert checked.data == data


def test_five_files_of_10_mb_each_are_accepted() -> None:
    uploads = [Upload(f"{n}.pdf", pdf_of_size(MAX_BYTES)) for n in range(MAX_FILES)]
    assert {len(u.data) for u in uploads} == {MAX_BYTES}

    assert len(checked_uploads(uploads)) == MAX_FILES


def test_a_file_input_left_empty_is_no_file() -> None:
    uploads = [Upload("", b"")] * 3 + [Upload(f"{n}.png", png()) for n in range(MAX_FILES)]

    assert len(checked_uploads(uploads)) == MAX_FILES


def test_the_same_photo_twice_gives_the_same_stored_bytes() -> None:
    first, second = checked_uploads([Upload("a.jpg", jpeg()), Upload("b.jpg", jpeg())])

    assert first.sha256 == second.sha256


# --- what is refused ----------------------------------------------------------------------------

REFUSALS: list[tuple[str, Callable[[], list[Upload]], str]] = [
    ("six-files", lambda: [Upload(f"{n}.png", png()) for n in range(6)], "At most 5 files."),
    ("empty", lambda: [Upload("empty.png", b"")], "empty.png: the file is empty"),
    (
        "over-10-MB",
        lambda: [Upload("big.pdf", pdf_of_size(MAX_BYTES + 1))],
        "big.pdf: larger than 10 MB",
    ),
    (
        "html-named-jpg",
        lambda: [Upload("photo.jpg", HTML)],
        "photo.jpg: only JPEG, PNG and PDF files are accepted",
    ),
    ("svg", lambda: [Upload("drawing.svg", SVG)], "drawing.svg: only JPEG, PNG and PDF"),
    ("svg-named-png", lambda: [Upload("drawing.png", SVG)], "drawing.png: only JPEG, PNG and PDF"),
    ("gif", lambda: [Upload("anim.gif", gif())], "anim.gif: only JPEG, PNG and PDF"),
    ("gif-named-jpg", lambda: [Upload("anim.jpg", gif())], "anim.jpg: only JPEG, PNG and PDF"),
    ("exe-named-pdf", lambda: [Upload("form.pdf", EXE)], "form.pdf: only JPEG, PNG and PDF"),
    ("text-named-png", lambda: [Upload("x.png", b"just text\n")], "x.png: only JPEG, PNG and PDF"),
    (
        "a-bad-file-among-good-ones",
        lambda: [Upload("a.png", png()), Upload("b.pdf", pdf()), Upload("c.jpg", HTML)],
        "c.jpg: only",
    ),
    (
        "truncated-jpeg",
        lambda: [Upload("cut.jpg", noisy_jpeg()[:3000])],
        "cut.jpg: the image is damaged or incomplete",
    ),
    (
        "corrupt-png",
        lambda: [Upload("bad.png", png_declaring(16, 16)[:33] + png_chunk(b"IDAT", b"junk"))],
        "bad.png: the image is damaged or incomplete",
    ),
    (
        "png-bomb",
        lambda: [Upload("bomb.png", png_declaring(30_000, 30_000))],
        "bomb.png: the image is too large (more than 40 megapixels)",
    ),
    (
        "png-over-our-cap-under-pillows",
        lambda: [Upload("huge.png", png_declaring(8_000, 6_000))],
        "huge.png: the image is too large",
    ),
    (
        "jpeg-bomb",
        lambda: [Upload("bomb.jpg", jpeg_declaring(60_000, 60_000))],
        "bomb.jpg: the image is too large",
    ),
    (
        "jpeg-over-our-cap-under-pillows",
        lambda: [Upload("huge.jpg", jpeg_declaring(8_000, 6_000))],
        "huge.jpg: the image is too large",
    ),
    (
        "pdf-without-end",
        lambda: [Upload("cut.pdf", pdf()[:-200])],
        "cut.pdf: the PDF is incomplete or damaged",
    ),
    (
        "pdf-with-javascript",
        lambda: [Upload("js.pdf", pdf(SCRIPT))],
        "js.pdf: the PDF contains JavaScript (/JavaScript); such PDFs are not accepted",
    ),
    (
        "pdf-with-js-only",
        lambda: [Upload("js.pdf", pdf(b"<< /JS (app.alert(1)) >>"))],
        "the PDF contains JavaScript (/JS)",
    ),
    (
        "pdf-with-js-by-reference",
        lambda: [Upload("js.pdf", pdf(b"<< /S /Rendition /JS 9 0 R >>"))],
        "the PDF contains JavaScript (/JS)",
    ),
    (
        "pdf-with-xfa-form",
        lambda: [Upload("form.pdf", pdf(b"<< /Fields [] /XFA 9 0 R >>"))],
        "form.pdf: the PDF contains an XFA form, which can run scripts (/XFA)",
    ),
    (
        "pdf-with-escaped-name",
        lambda: [Upload("js.pdf", pdf(b"<< /S /J#61vaScript /J#53 (app.alert(1)) >>"))],
        "the PDF contains JavaScript (/J",
    ),
    (
        "pdf-with-launch",
        lambda: [Upload("run.pdf", pdf(b"<< /S /Launch /F (cmd.exe) >>"))],
        "run.pdf: the PDF contains an action that starts a program (/Launch)",
    ),
    (
        "pdf-with-embedded-file",
        lambda: [
            Upload("carrier.pdf", pdf(b"<< /Type /EmbeddedFile /Length 0 >>\nstream\n\nendstream"))
        ],
        "carrier.pdf: the PDF contains embedded files",
    ),
    (
        "pdf-with-javascript-in-an-object-stream",
        lambda: [Upload("hidden.pdf", pdf(object_stream(SCRIPT)))],
        "hidden.pdf: the PDF contains JavaScript",
    ),
    (
        "pdf-object-stream-without-type",
        lambda: [Upload("hidden.pdf", pdf(object_stream(SCRIPT, b"/N 1 /First 4")))],
        "the PDF contains JavaScript",
    ),
    (
        "pdf-object-stream-with-a-decoy-object-header",
        lambda: [
            Upload("hidden.pdf", pdf(object_stream(SCRIPT, b"/Type /ObjStm /X ( 9 0 obj ) /N 1")))
        ],
        "the PDF contains JavaScript",
    ),
    (
        "pdf-object-stream-after-a-comment",
        lambda: [
            Upload(
                "hidden.pdf",
                pdf(object_stream(SCRIPT).replace(b">>\nstream", b">> % a comment\r\nstream")),
            )
        ],
        "the PDF contains JavaScript",
    ),
    (
        "pdf-object-stream-after-a-decoy-stream-keyword",
        lambda: [Upload("hidden.pdf", pdf(b"<< /X (>>stream\n) >>", object_stream(SCRIPT)))],
        "the PDF contains JavaScript",
    ),
    (
        "pdf-object-stream-with-a-decoy-keyword-in-its-dictionary",
        lambda: [
            Upload(
                "hidden.pdf",
                pdf(object_stream(SCRIPT, b"/Type /ObjStm /X (>>stream\n) /N 1 /First 4")),
            )
        ],
        "hidden.pdf: the PDF is encrypted or packed in a way that cannot be checked",
    ),
    (
        "pdf-object-stream-with-a-predictor",
        lambda: [
            Upload(
                "hidden.pdf",
                pdf(
                    object_stream(
                        b"".join(b"\x00" + SCRIPT[i : i + 5] for i in range(0, len(SCRIPT), 5)),
                        b"/Type /ObjStm /N 1 /First 4 /DecodeParms << /Predictor 10 /Columns 5 >>",
                    )
                ),
            )
        ],
        "hidden.pdf: the PDF is encrypted or packed in a way that cannot be checked",
    ),
    (
        "pdf-object-stream-untyped-with-none-predictor-rows",
        lambda: [
            Upload(
                "hidden.pdf",
                pdf(
                    object_stream(
                        b"".join(b"\x00" + SCRIPT[i : i + 5] for i in range(0, len(SCRIPT), 5)),
                        b"/N 1 /First 4 /DecodeParms << /Predictor 10 /Columns 5 >>",
                    )
                ),
            )
        ],
        "the PDF contains JavaScript",
    ),
    (
        "pdf-object-stream-packed-otherwise",
        lambda: [
            Upload(
                "packed.pdf",
                pdf(
                    b"<< /Type /ObjStm /N 1 /First 4 /Filter [/ASCIIHexDecode /FlateDecode] >>"
                    b"\nstream\n%s\nendstream" % zlib.compress(b"5 0 " + SCRIPT).hex().encode()
                ),
            )
        ],
        "packed.pdf: the PDF is encrypted or packed in a way that cannot be checked",
    ),
    (
        "pdf-object-stream-that-does-not-inflate",
        lambda: [
            Upload(
                "enc.pdf",
                pdf(
                    b"<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length 16 >>"
                    b"\nstream\n\x8f\x1d\x02encrypted-bytes\nendstream"
                ),
            )
        ],
        "enc.pdf: the PDF is encrypted or packed in a way that cannot be checked",
    ),
    (
        "name-in-message-is-made-safe",
        lambda: [Upload("../../evil\x00\u202e.jpg", HTML)],
        "evil.jpg: only",
    ),
]


@pytest.mark.parametrize(
    ("make_uploads", "message"),
    [pytest.param(make, message, id=name) for name, make, message in REFUSALS],
)
def test_refused_uploads_leave_nothing_behind(
    make_uploads: Callable[[], list[Upload]], message: str, tmp_path: Path
) -> None:
    upload_dir = tmp_path / "uploads"

    with pytest.raises(ValidationFailed) as refused:
        store_files(checked_uploads(make_uploads(), field="photos"), upload_dir)

    assert list(refused.value.field_errors) == ["photos"]
    assert message in str(refused.value.field_errors["photos"])
    assert not upload_dir.exists()


def test_a_pdf_is_refused_where_only_images_are_taken() -> None:
    with pytest.raises(ValidationFailed) as refused:
        checked_uploads([Upload("scan.pdf", pdf())], allowed_types={JPEG, PNG})

    assert {k: str(v) for k, v in refused.value.field_errors.items()} == {
        "attachments": "scan.pdf: a PDF file; only JPEG and PNG files are accepted here."
    }


def test_the_decompression_bomb_check_leaves_pillow_and_warnings_as_they_were() -> None:
    before = (Image.MAX_IMAGE_PIXELS, list(warnings.filters))

    for data in (png_declaring(30_000, 30_000), png_declaring(8_000, 6_000)):
        with pytest.raises(ValidationFailed):
            checked_uploads([Upload("bomb.png", data)])

    assert (Image.MAX_IMAGE_PIXELS, list(warnings.filters)) == before


# --- display names ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("original", "content_type", "safe"),
    [
        ("../../etc/passwd.png", PNG, "passwd.png"),
        ("C:\\Users\\张伟\\Desktop\\路面.JPG", JPEG, "路面.jpg"),
        ("photo.jpg", PDF, "photo.pdf"),
        ("report", PDF, "report.pdf"),
        ("archive.tar.gz", PDF, "archive.tar.pdf"),
        ("my.holiday", JPEG, "my.holiday.jpg"),
        ("a\x00b\x1fc\x7fd\x85.png", PNG, "abcd.png"),
        ("invoice\u202egnp.exe", PNG, "invoicegnp.png"),
        ('a<b>:"c"|?*.pdf', PDF, "abc.pdf"),
        (" .hidden.png ", PNG, "hidden.png"),
        ("..", PNG, "attachment.png"),
        ("", PDF, "attachment.pdf"),
        ("x" * 300 + ".png", PNG, "x" * 116 + ".png"),
        ("路" * 200 + ".pdf", PDF, "路" * 116 + ".pdf"),
    ],
)
def test_safe_filename(original: str, content_type: str, safe: str) -> None:
    assert safe_filename(original, content_type) == safe


def test_a_path_in_the_name_is_dropped() -> None:
    [checked] = checked_uploads([Upload("../../etc/passwd.png", png())])

    assert checked.filename == "passwd.png"


# --- storing ------------------------------------------------------------------------------------


def checked_png(colour: str = "red") -> CheckedFile:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), colour).save(out, "PNG")
    [checked] = checked_uploads([Upload(f"{colour}.png", out.getvalue())])
    return checked


def test_store_files_is_content_addressed_and_idempotent(tmp_path: Path) -> None:
    red, blue = checked_png("red"), checked_png("blue")

    created = store_files([red, blue, red], tmp_path)

    assert created == [
        tmp_path / red.sha256[:2] / red.sha256,
        tmp_path / blue.sha256[:2] / blue.sha256,
    ]
    assert created[0].read_bytes() == red.data
    written = created[0].stat().st_mtime_ns, created[0].stat().st_ino

    assert store_files([red, blue], tmp_path) == []
    assert (created[0].stat().st_mtime_ns, created[0].stat().st_ino) == written
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == sorted(
        [red.sha256, blue.sha256]
    )  # no temporary files left


@pytest.mark.usefixtures("app_ctx")
def test_remove_files_undoes_a_store(tmp_path: Path) -> None:
    created = store_files([checked_png()], tmp_path)

    remove_files(created)
    remove_files(created)  # already gone: no error

    assert not any(p.is_file() for p in tmp_path.rglob("*"))


@pytest.mark.usefixtures("app_ctx", "demo_base")
def test_a_failed_filing_spares_the_file_another_filing_committed(tmp_path: Path) -> None:
    """Two filings of the same photo at once: the first writes the file, the second finds
    it in place and commits; the first then fails. Its clean-up must not take the file
    from under the committed attachment (found by the crash tests' review)."""
    red = checked_png()
    written_by_first = store_files([red], tmp_path)
    assert store_files([red], tmp_path) == []  # the second finds it in place
    second = new_case()
    attach_files(second, [red], public=False, uploaded_by_id=None, event_id=None,
                 now=datetime.now(UTC))  # fmt: skip
    db.session.commit()

    remove_files(written_by_first)  # the first filing failed

    assert written_by_first[0].read_bytes() == red.data
    # A file no committed row uses goes.
    blue = checked_png("blue")
    remove_files(store_files([blue], tmp_path))
    assert not (tmp_path / blue.sha256[:2] / blue.sha256).exists()


def test_storing_again_puts_back_a_file_removed_meanwhile(tmp_path: Path) -> None:
    red = checked_png()
    [path] = store_files([red], tmp_path)
    path.unlink()  # removed by a failing filing between the check and the commit

    store_files([red], tmp_path)  # as a filing does after its commit

    assert path.read_bytes() == red.data


def test_a_failed_store_removes_what_it_wrote(tmp_path: Path) -> None:
    forged = CheckedFile("x.png", PNG, b"x", "../../../outside", 1)

    with pytest.raises(ValueError):
        store_files([checked_png(), forged], tmp_path)

    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_open_attachment_returns_the_stored_file(tmp_path: Path) -> None:
    red = checked_png()
    store_files([red], tmp_path)
    row = Attachment(sha256=red.sha256, storage_key=f"{red.sha256[:2]}/{red.sha256}")

    assert open_attachment(row, tmp_path).read_bytes() == red.data


@pytest.mark.parametrize(
    "storage_key",
    [
        "../x",
        "../../etc/passwd",
        "/etc/passwd",
        "ab/../../x",
        "{sha2}/{sha}/../../../x",
        "{sha2}\\{sha}",
        "ff/{sha}",  # well formed, but not this file's hash
    ],
)
def test_open_attachment_refuses_a_key_outside_the_folder(tmp_path: Path, storage_key: str) -> None:
    red = checked_png()
    store_files([red], tmp_path / "uploads")
    (tmp_path / "x").write_text("outside")
    row = Attachment(
        sha256=red.sha256, storage_key=storage_key.format(sha=red.sha256, sha2=red.sha256[:2])
    )

    with pytest.raises(NotFound):
        open_attachment(row, tmp_path / "uploads")


def test_open_attachment_refuses_a_missing_file(tmp_path: Path) -> None:
    red = checked_png()
    row = Attachment(sha256=red.sha256, storage_key=f"{red.sha256[:2]}/{red.sha256}")

    with pytest.raises(NotFound):
        open_attachment(row, tmp_path)


# --- attaching to a case ------------------------------------------------------------------------


@pytest.mark.usefixtures("app_ctx", "demo_base")
def test_attach_files_adds_rows_that_the_caller_commits(tmp_path: Path) -> None:
    case = new_case()
    event_id = db.session.scalar(sa.select(CaseEvent.id).where(CaseEvent.case_id == case.id))
    files = checked_uploads([Upload("../../etc/passwd.png", png()), Upload("photo", pdf())])
    store_files(files, tmp_path)
    now = datetime(2025, 3, 4, 5, 6, tzinfo=UTC)

    attach_files(case, files, public=True, uploaded_by_id=None, event_id=event_id, now=now)
    db.session.commit()
    db.session.expire_all()

    rows = db.session.scalars(
        sa.select(Attachment).where(Attachment.case_id == case.id).order_by(Attachment.id)
    ).all()
    assert [(r.filename, r.content_type, r.size, r.public, r.event_id) for r in rows] == [
        ("passwd.png", PNG, files[0].size, True, event_id),
        ("photo.pdf", PDF, files[1].size, True, event_id),
    ]
    assert [r.storage_key for r in rows] == [f"{f.sha256[:2]}/{f.sha256}" for f in files]
    assert rows[0].created_at == now
    assert open_attachment(rows[1], tmp_path).read_bytes() == files[1].data


@pytest.mark.usefixtures("app_ctx", "demo_base")
def test_a_failed_transaction_leaves_neither_rows_nor_files(tmp_path: Path) -> None:
    case = new_case()
    files = checked_uploads([Upload("a.png", png())])
    created = store_files(files, tmp_path)

    attach_files(
        case, files, public=False, uploaded_by_id=None, event_id=None, now=datetime.now(UTC)
    )
    db.session.rollback()  # the action failed after attaching
    remove_files(created)

    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attachment)) == 0
    assert not any(p.is_file() for p in tmp_path.rglob("*"))

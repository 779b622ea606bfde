"""Attachments: checking uploaded files, storing them by content hash, attaching them.

DESIGN §7: up to 5 files, JPEG, PNG or PDF, at most 10 MB each, the type decided by the
content. Every file of a request is checked before anything is written, so a refusal
leaves no trace. Images are decoded with a pixel cap and re-encoded without their
metadata (EXIF, GPS, XMP, comments), so a phone photo does not reveal where the citizen
lives. PDFs are kept as sent, but not when they carry scripts, launch actions or
embedded files.

The flow for a service: ``checked_uploads`` (refuses with ``ValidationFailed``), then,
inside the action, ``store_files`` and ``attach_files``; if the transaction fails,
``remove_files`` on the paths ``store_files`` created; if it commits, ``store_files`` once
more, which writes back any file a failing filing of the same photo removed between its
check and this commit (``remove_files`` spares files a committed attachment uses).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import tempfile
import unicodedata
import warnings
import zlib
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from PIL import Image, ImageOps

from caseapp.extensions import db
from caseapp.models import Attachment, Case
from caseapp.services.errors import NotFound, ValidationFailed
from caseapp.services.messages import N_, Message

MAX_FILES = 5
MAX_BYTES = 10 * 1024 * 1024
# Decoding holds 1-4 bytes a pixel, twice over while a photo is turned upright.
MAX_PIXELS = 40_000_000
FILENAME_MAX = 120
JPEG_QUALITY = 85
# %%EOF must be within this many bytes of the end (some writers add trailing bytes).
PDF_EOF_WINDOW = 1024
# Object streams (compressed objects) are inflated and scanned too, within these limits:
# what they may inflate to, in all, and how many streams a PDF may have.
PDF_INFLATE_MAX = 32 * 1024 * 1024
PDF_STREAMS_MAX = 100_000
# Distinct #-escaped names beyond which a PDF is too complex to check (writers use few).
PDF_ESCAPED_NAMES_MAX = 10_000

JPEG = "image/jpeg"
PNG = "image/png"
PDF = "application/pdf"
ALLOWED_TYPES = frozenset({JPEG, PNG, PDF})
EXTENSIONS = {JPEG: ".jpg", PNG: ".png", PDF: ".pdf"}
_TYPE_NAMES = {JPEG: "JPEG", PNG: "PNG", PDF: "PDF"}
_MAGIC = ((b"\xff\xd8\xff", JPEG), (b"\x89PNG\r\n\x1a\n", PNG), (b"%PDF-", PDF))

# Modes Pillow writes as PNG without conversion.
_PNG_MODES = frozenset({"1", "L", "LA", "I;16", "I;16B", "P", "RGB", "RGBA"})

# Names that make a PDF active or a carrier of other files, and why we refuse them.
_PDF_REFUSED_NAMES = {
    b"JavaScript": N_("contains JavaScript"),
    b"JS": N_("contains JavaScript"),
    b"Launch": N_("contains an action that starts a program"),
    b"EmbeddedFile": N_("contains embedded files"),
    b"EmbeddedFiles": N_("contains embedded files"),
    # An XFA form carries its scripts in XML, out of reach of the name scan.
    b"XFA": N_("contains an XFA form, which can run scripts"),
}
# A PDF name is a slash and regular characters (ISO 32000-1, 7.3.5); #xx escapes a byte.
_PDF_WHITE = rb"[\x00\t\n\x0c\r ]"
_PDF_REGULAR = rb"[^\x00\t\n\x0c\r ()<>\[\]{}/%]"
# A name that may spell a refused one with #xx escapes: 2-13 letters, some escaped.
_PDF_ESCAPED_NAME = re.compile(
    rb"/(?=[A-Za-z]*#)((?:[A-Za-z]|#[4-7][0-9A-Fa-f]){2,13})(?!%s)" % _PDF_REGULAR
)
_PDF_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
# The refused names written plainly, found in one pass however many names a file has.
# The whole file is scanned, stream data too: a reader finds objects by the offsets in
# the cross-reference table, so an object can sit where a scan would take it for data.
# "/JS" is short enough to occur by chance in image data, so it counts only when a value
# follows it (a string, a hex string or stream reference, a comment).
_PDF_REFUSED_NAME = re.compile(
    rb"/(JavaScript|Launch|EmbeddedFiles?|XFA)(?!%s)|/(JS)(?=%s*[(<%%]|%s+[0-9])"
    % (_PDF_REGULAR, _PDF_WHITE, _PDF_WHITE)
)
# An object stream's type, and the names of the predictors that would change its bytes.
_PDF_OBJECT_STREAM_NAMES = frozenset({b"ObjStm", b"DecodeParms", b"Predictor"})
# The keyword that starts a stream's data, and the end of line after it.
_PDF_STREAM = re.compile(rb"(?<=[\x00\t\n\x0c\r >])stream(?:\r\n|\r|\n)?")
# How an object stream's content begins: pairs of object numbers and offsets, then the
# first object (a dictionary, array, string, name...). Page content may begin with
# numbers too, but then an operator or a real number follows.
_PDF_OBJECT_STREAM_START = re.compile(
    rb"%s*(?:[0-9]+%s+){2,}(?:[<\[(/]|true|false|null|[0-9]*\Z)" % (_PDF_WHITE, _PDF_WHITE)
)

_FILENAME_SEPARATORS = re.compile(r"[\\/]")
# Reserved on Windows, where the file may be saved again by whoever downloads it.
_FILENAME_RESERVED = frozenset('<>:"|?*')
_FILENAME_SUFFIX = re.compile(r"[A-Za-z0-9]{1,5}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_STORAGE_KEY = re.compile(r"[0-9a-f]{2}/[0-9a-f]{64}")


@dataclass(frozen=True)
class Upload:
    """One file as the web layer received it: the name the browser gave, and the bytes."""

    filename: str
    data: bytes


@dataclass(frozen=True)
class CheckedFile:
    """A file that passed the checks, in the form it is stored (images re-encoded)."""

    filename: str
    content_type: str
    data: bytes
    sha256: str
    size: int


class _Refused(Exception):
    """One file's reason for refusal, turned into a ValidationFailed by the caller."""


def checked_uploads(
    uploads: Sequence[Upload],
    *,
    field: str = "attachments",
    allowed_types: Collection[str] = ALLOWED_TYPES,
) -> list[CheckedFile]:
    """Check every upload, re-encode the images, and return the files to store.

    Nothing is written. The first problem raises ``ValidationFailed`` with the reason
    under ``field``; ``allowed_types`` narrows the accepted types (e.g. images only).
    A part with neither name nor bytes is a file input left empty, not a file: skipped.
    """
    uploads = [upload for upload in uploads if upload.filename or upload.data]
    try:
        if len(uploads) > MAX_FILES:
            raise _Refused(Message(N_("At most %(count)s files."), count=MAX_FILES))
        return [_checked(upload, allowed_types) for upload in uploads]
    except _Refused as refusal:
        raise ValidationFailed(
            "the attachments were not accepted", {field: refusal.args[0]}
        ) from None


def _checked(upload: Upload, allowed_types: Collection[str]) -> CheckedFile:
    data = upload.data
    shown = safe_filename(upload.filename, None)
    if not data:
        raise _Refused(Message(N_("%(name)s: the file is empty."), name=shown))
    if len(data) > MAX_BYTES:
        raise _Refused(
            Message(
                N_("%(name)s: larger than %(mb)s MB."), name=shown, mb=MAX_BYTES // (1024 * 1024)
            )
        )
    content_type = detect_type(data)
    if content_type is None:
        raise _Refused(
            Message(
                N_("%(name)s: only %(types)s files are accepted."),
                name=shown,
                types=_accepted(allowed_types),
            )
        )
    if content_type not in allowed_types:
        raise _Refused(
            Message(
                N_("%(name)s: a %(type)s file; only %(types)s files are accepted here."),
                name=shown,
                type=_TYPE_NAMES[content_type],
                types=_accepted(allowed_types),
            )
        )
    claimed = _claimed_type(upload.filename)
    if claimed is not None and claimed != content_type:
        # Named as one kind of file but holding another: most likely the wrong file.
        raise _Refused(
            Message(
                N_("%(name)s: the name says %(claimed)s but the file is a %(actual)s file."),
                name=shown,
                claimed=_TYPE_NAMES[claimed],
                actual=_TYPE_NAMES[content_type],
            )
        )
    if content_type == PDF:
        _check_pdf(data, shown)
        stored = data
    else:
        stored = _reencoded_image(data, content_type, shown)
    return CheckedFile(
        filename=safe_filename(upload.filename, content_type),
        content_type=content_type,
        data=stored,
        sha256=hashlib.sha256(stored).hexdigest(),
        size=len(stored),
    )


def _claimed_type(filename: str) -> str | None:
    """The type a file's name claims by its extension, if it names one we know."""
    suffix = Path(filename.replace("\\", "/")).suffix.lower()
    return {".jpg": JPEG, ".jpeg": JPEG, ".png": PNG, ".pdf": PDF}.get(suffix)


def _accepted(allowed_types: Collection[str]) -> str:
    """ "JPEG, PNG and PDF", or fewer."""
    names = [_TYPE_NAMES[t] for t in (JPEG, PNG, PDF) if t in allowed_types]
    return " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)


def detect_type(data: bytes) -> str | None:
    """The content type the file's first bytes show (JPEG, PNG or PDF), or None."""
    for magic, content_type in _MAGIC:
        if data.startswith(magic):
            return content_type
    return None


def safe_filename(original: str, content_type: str | None) -> str:
    """A name safe to show and to offer for download: the last path part only, no control,
    format or Windows-reserved characters, at most ``FILENAME_MAX`` characters, and the
    extension of ``content_type`` (the original one kept when it is None)."""
    name = unicodedata.normalize("NFC", original or "")
    name = _FILENAME_SEPARATORS.split(name)[-1]
    # Cc: control characters; Cf: format characters such as U+202E, which can make
    # "photo<U+202E>gpj.exe" read as "photoexe.jpg"; Cs: lone surrogates.
    name = "".join(
        ch
        for ch in name
        if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Zl", "Zp")
        and ch not in _FILENAME_RESERVED
    )
    name = name.strip(" .")
    if content_type is None:
        return (name or "attachment")[:FILENAME_MAX]
    stem, dot, suffix = name.rpartition(".")
    if dot and stem and _FILENAME_SUFFIX.fullmatch(suffix):
        name = stem
    extension = EXTENSIONS[content_type]
    stem = name[: FILENAME_MAX - len(extension)].rstrip(" .")
    return (stem or "attachment") + extension


# --- images ---------------------------------------------------------------------------------


def _reencoded_image(data: bytes, content_type: str, shown: str) -> bytes:
    """Decode the image in full (within the pixel cap) and encode it again, bare."""
    image_format = "JPEG" if content_type == JPEG else "PNG"
    too_large = Message(
        N_("%(name)s: the image is too large (more than %(mp)s megapixels)."),
        name=shown,
        mp=MAX_PIXELS // 1_000_000,
    )
    try:
        # Pillow warns (and, above twice its limit, raises) about decompression bombs;
        # the warning is made an error for this call only. Our own cap below does not
        # depend on the warnings filter or on Pillow's global MAX_IMAGE_PIXELS.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[image_format]) as image:
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise _Refused(too_large)
                image.load()
                icc_profile = image.info.get("icc_profile")
                _turn_upright(image)
                return _encoded(image, image_format, icc_profile)
    except _Refused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _Refused(too_large) from None
    except Exception:
        # Truncated, corrupt, or a decoder's limit hit: whatever Pillow cannot read fully.
        raise _Refused(
            Message(
                N_("%(name)s: the image is damaged or incomplete and cannot be read."), name=shown
            )
        ) from None


def _turn_upright(image: Image.Image) -> None:
    """Apply the EXIF orientation in place (no copy of the pixels). Unreadable EXIF is
    no reason to refuse a picture that decoded: it is then kept as it is."""
    with contextlib.suppress(Exception):
        ImageOps.exif_transpose(image, in_place=True)


def _encoded(image: Image.Image, image_format: str, icc_profile: object) -> bytes:
    """The image saved with nothing but its pixels, transparency and colour profile."""
    transparency = image.info.get("transparency")
    options: dict[str, object] = {"optimize": True}
    if image_format == "JPEG":
        options["quality"] = JPEG_QUALITY
        if image.mode not in ("L", "RGB"):
            # CMYK and the like: a profile for the old mode would be wrong for the new one.
            image = image.convert("RGB")
            icc_profile = None
        transparency = None
    elif image.mode not in _PNG_MODES:
        has_alpha = "A" in image.mode or transparency is not None
        image = image.convert("RGBA" if has_alpha else "RGB")
        icc_profile = transparency = None
    # Savers read some metadata (comments, text, EXIF after exif_transpose) from
    # ``info``; clear it and pass on only what the picture needs.
    image.info = {} if transparency is None else {"transparency": transparency}
    if isinstance(icc_profile, bytes) and icc_profile:
        options["icc_profile"] = icc_profile
    out = io.BytesIO()
    image.save(out, format=image_format, **options)
    return out.getvalue()


# --- PDFs -----------------------------------------------------------------------------------


def _check_pdf(data: bytes, shown: str) -> None:
    """Refuse a PDF that is cut short or carries scripts, launch actions or files."""
    if b"%%EOF" not in data[-PDF_EOF_WINDOW:]:
        raise _Refused(Message(N_("%(name)s: the PDF is incomplete or damaged."), name=shown))
    _refuse_active_names(data, shown)
    for content in _object_streams(data, shown):
        _refuse_active_names(content, shown)
        # A PNG predictor's "None" rows put a zero byte into the content at each row's
        # start, which can split a name in two; a reader removes them again.
        if b"\x00" in content:
            _refuse_active_names(content.replace(b"\x00", b""), shown)


def _too_complex(shown: str) -> Message:
    return Message(N_("%(name)s: the PDF is too complex to be checked."), name=shown)


def _unchecked_pdf(shown: str) -> Message:
    return Message(
        N_(
            "%(name)s: the PDF is encrypted or packed in a way that cannot be checked; "
            "please save it again without a password."
        ),
        name=shown,
    )


def _refuse_active_names(data: bytes, shown: str) -> None:
    plain = _PDF_REFUSED_NAME.search(data)
    escaped = set(_PDF_ESCAPED_NAME.findall(data))
    if len(escaped) > PDF_ESCAPED_NAMES_MAX:
        raise _Refused(_too_complex(shown))
    names = [plain.group(1) or plain.group(2)] if plain else []
    names += (_unescaped(name) for name in sorted(escaped))
    for name in names:
        reason = _PDF_REFUSED_NAMES.get(name)
        if reason:
            raise _Refused(
                Message(
                    N_("%(name)s: the PDF %(reason)s (/%(item)s); such PDFs are not accepted."),
                    name=shown,
                    reason=reason,
                    item=name.decode(),
                )
            )


def _unescaped(name: bytes) -> bytes:
    return _PDF_NAME_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), name)


def _object_streams(data: bytes, shown: str) -> Iterator[bytes]:
    """The inflated content of each object stream.

    Objects packed in an object stream are compressed, so the byte scan does not see
    their names. A stream is taken for one when its data inflates to what an object
    stream begins with, or when /ObjStm is named since the previous stream keyword; the
    latter must be plain Flate, or the PDF is refused as one that cannot be checked.
    Streams are found by their keyword alone, not by parsing the dictionaries, which a
    crafted file could make this scan read differently from a PDF reader.
    """
    view = memoryview(data)
    inflated = fed = count = previous = 0
    for match in _PDF_STREAM.finditer(data):
        count += 1
        if count > PDF_STREAMS_MAX:
            raise _Refused(_too_complex(shown))
        named = _names_in(data[previous : match.start()], _PDF_OBJECT_STREAM_NAMES)
        previous = match.end()
        start = match.end()
        head = _inflated_head(view[start : start + 16384])
        looks_like_one = head is not None and _PDF_OBJECT_STREAM_START.match(head)
        if b"ObjStm" in named and (not looks_like_one or len(named) > 1):
            # Not Flate, encrypted, or its bytes changed by a predictor.
            raise _Refused(_unchecked_pdf(shown))
        if not looks_like_one:
            continue
        inflater = zlib.decompressobj()
        content = bytearray()
        at = start
        while not inflater.eof and at < len(data):
            chunk = view[at : at + 65536]
            at += len(chunk)
            fed += len(chunk)
            try:
                content += inflater.decompress(chunk, PDF_INFLATE_MAX - inflated - len(content) + 1)
            except zlib.error:
                break  # what inflated so far is scanned; a reader gets no further
            # Over the limit, or input that inflates to nothing (empty blocks) read again
            # and again through overlapping streams: either way, too much work.
            if inflated + len(content) > PDF_INFLATE_MAX or fed > 2 * MAX_BYTES:
                raise _Refused(_too_complex(shown))
        inflated += len(content)
        yield bytes(content)


def _names_in(between: bytes, wanted: frozenset[bytes]) -> set[bytes]:
    """Which of the ``wanted`` names occur in ``between``, plainly or with #xx escapes."""
    found = {name for name in wanted if name in between}
    if b"#" in between:
        found |= {_unescaped(n) for n in set(_PDF_ESCAPED_NAME.findall(between))} & wanted
    return found


def _inflated_head(data: memoryview) -> bytes | None:
    """The first bytes ``data`` inflates to, or None when it is no zlib stream."""
    if len(data) < 2 or data[0] & 0x0F != 8 or data[0] >> 4 > 7 or (data[0] << 8 | data[1]) % 31:
        return None
    try:
        return zlib.decompressobj().decompress(data, 4096)
    except zlib.error:
        return None


# --- storing --------------------------------------------------------------------------------


def storage_key(sha256: str) -> str:
    """Where a file with this hash lives, relative to the upload folder."""
    return f"{sha256[:2]}/{sha256}"


def store_files(files: Sequence[CheckedFile], upload_dir: str | Path) -> list[Path]:
    """Write each file to ``upload_dir/<sha[:2]>/<sha>``; return the paths newly created.

    A file already there is left alone. Each write goes to a temporary file in the same
    folder that is then renamed into place, so a reader never sees half a file. If a
    write fails, the files this call created are removed again before the error is
    raised; the caller removes the returned paths if its transaction fails.
    """
    root = Path(upload_dir)
    created: list[Path] = []
    try:
        for file in files:
            if not _SHA256.fullmatch(file.sha256):
                raise ValueError(f"not a sha256 hex digest: {file.sha256!r}")
            path = root / storage_key(file.sha256)
            if path.is_file() and path.stat().st_size == file.size:
                continue
            existed = path.exists()
            path.parent.mkdir(parents=True, exist_ok=True)
            _write_atomically(path, file.data)
            if not existed:
                created.append(path)
    except BaseException:
        _unlink(created)  # written by this call alone, used by nobody yet
        raise
    return created


def _write_atomically(path: Path, data: bytes) -> None:
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    # The rename is durable only once the folder is synced (not possible on Windows).
    with contextlib.suppress(OSError):
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


def remove_files(paths: Sequence[Path]) -> None:
    """Remove files ``store_files`` created, after the transaction that needed them failed
    (and was rolled back) — but not one a committed attachment uses: files are kept by
    content, and another filing of the same photo may have found this one in place."""
    if not paths:
        return
    keys = {f"{path.parent.name}/{path.name}": path for path in paths}
    used = set(
        db.session.scalars(
            sa.select(Attachment.storage_key).where(Attachment.storage_key.in_(sorted(keys)))
        )
    )
    db.session.rollback()  # the check read nothing to keep
    _unlink([path for key, path in keys.items() if key not in used])


def _unlink(paths: Sequence[Path]) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def attach_files(
    case: Case,
    files: Sequence[CheckedFile],
    *,
    public: bool,
    uploaded_by_id: int | None,
    event_id: int | None,
    now: datetime,
) -> list[Attachment]:
    """Add an ``Attachment`` row per stored file to the session; the caller commits."""
    attachments = [
        Attachment(
            case=case,
            event_id=event_id,
            filename=file.filename,
            content_type=file.content_type,
            size=file.size,
            sha256=file.sha256,
            storage_key=storage_key(file.sha256),
            public=public,
            uploaded_by_id=uploaded_by_id,
            created_at=now,
        )
        for file in files
    ]
    db.session.add_all(attachments)
    return attachments


def open_attachment(attachment: Attachment, upload_dir: str | Path) -> Path:
    """The file of ``attachment``, for a download; whether the actor may see it is the
    caller's check. A storage key that is not ``<sha[:2]>/<sha>`` is refused."""
    key = attachment.storage_key or ""
    if not _STORAGE_KEY.fullmatch(key) or key != storage_key(attachment.sha256 or ""):
        raise NotFound("no such attachment file")
    root = Path(upload_dir).resolve()
    path = (root / key).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise NotFound("no such attachment file")
    return path

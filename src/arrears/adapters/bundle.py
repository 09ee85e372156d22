"""Evidence bundles as zip files, and credentials as QR codes (segno): the file formats the
borrower receives."""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path

import segno

from arrears.domain.errors import DomainError

_SAFE_MEMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*")
"""Relative, forward slashes, no `..`, no empty or dot-led part: unzips where it is meant to."""
MAX_BUNDLE_BYTES = 512 * 1024 * 1024
"""A bundle is read into memory; refuse one that would unpack to more than this."""


def write_zip(members: Mapping[str, bytes], path: Path) -> None:
    """Write the bundle, members in name order, with fixed timestamps (same input, same bytes).
    Written beside the target and renamed, so a failed export leaves no half-written file."""
    for name in members:
        if not _SAFE_MEMBER.fullmatch(name) or ".." in name.split("/"):
            raise DomainError("--out", f"{name!r} is not a safe member name")
    partial = path.with_name(path.name + ".partial")
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
            for name in sorted(members):
                bundle.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)),
                                members[name], compress_type=zipfile.ZIP_DEFLATED)
        partial.replace(path)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise DomainError("--out", f"cannot write {path}: {error.strerror or error}") from None


def read_zip(path: Path, field: str) -> dict[str, bytes]:
    """The bundle's members by name; a duplicated name is refused (it could hide an entry)."""
    try:
        with zipfile.ZipFile(path) as bundle:
            infos = bundle.infolist()
            names = [i.filename for i in infos]
            if len(set(names)) != len(names):
                raise DomainError(field, f"{path} has two members with the same name")
            if sum(i.file_size for i in infos) > MAX_BUNDLE_BYTES:
                raise DomainError(field, f"{path} unpacks to more than {MAX_BUNDLE_BYTES} bytes")
            return {i.filename: bundle.read(i) for i in infos if not i.is_dir()}
    # zlib.error: a corrupt deflate stream; NotImplementedError: an unknown compression
    # method; RuntimeError: an encrypted member; EOFError, ValueError: a truncated or odd
    # archive. Each is a file that is not a bundle, never a crash.
    except (OSError, zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError,
            EOFError, ValueError) as error:
        raise DomainError(field, f"cannot read {path} as a zip file "
                                 f"({type(error).__name__}: {error})") from None


def qr_svg(text: str) -> str:
    """An SVG QR code of `text` (a credential token: a phone camera opens the verifier)."""
    return segno.make(text, error="m").svg_inline(scale=2)

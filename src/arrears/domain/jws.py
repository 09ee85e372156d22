"""JWS compact serialization (RFC 7515) for EdDSA over Ed25519 (RFC 8037), without the
cryptography: canonical JSON, base64url, key ids (RFC 7638 thumbprints) and parsing. Signing
and verifying the bytes happen behind a port, so anything here is a pure function.

A token is `base64url(header) . base64url(payload) . base64url(signature)`; the signature is
over the ASCII bytes of the first two parts. Any JOSE library verifies what this produces.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ALGORITHM = "EdDSA"
CURVE = "Ed25519"
KEY_TYPE = "OKP"
_B64URL = re.compile(r"[A-Za-z0-9_-]*")


class MalformedToken(ValueError):
    """The text is not a compact JWS this system could have signed."""


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8: one byte string per value, for hashing and signing."""
    return _canonical_text(value).encode()


# One encoder for every call: `json.dumps` given options builds one a call, a third of its
# cost on the evidence entries a strategy run hashes by the hundred thousand.
_canonical_text = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                                   allow_nan=False).encode


def _no_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for name, value in pairs:
        if name in document:
            raise ValueError(f"the member {name!r} appears twice")
        document[name] = value
    return document


def _finite(text: str) -> float:
    number = float(text)
    if number in (float("inf"), float("-inf")):
        raise ValueError(f"{text} is out of range")
    return number


def _no_constant(text: str) -> Any:
    raise ValueError(f"{text} is not JSON")


def strict_loads(data: bytes | str) -> Any:
    """JSON as signed or hashed documents must be: UTF-8, no repeated member names (two
    parsers could read different values), no NaN or Infinity, no integer past the
    interpreter's digit limit, no nesting deeper than the decoder's stack. Anything else is a
    ValueError (a `MalformedToken`), never another exception."""
    try:
        return json.loads(data, object_pairs_hook=_no_repeats, parse_float=_finite,
                          parse_constant=_no_constant)
    except RecursionError:
        raise MalformedToken("nested too deeply") from None
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise MalformedToken(f"not strict JSON: {str(error)[:100]}") from None


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict: only the URL-safe alphabet, no padding (RFC 7515 §2), one spelling per value —
    so a token changed anywhere decodes to different bytes or not at all."""
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise MalformedToken("not base64url")
    try:
        decoded = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise MalformedToken("not base64url") from None
    if b64url(decoded) != text:  # unused low bits set: another spelling of the same bytes
        raise MalformedToken("not canonical base64url")
    return decoded


def thumbprint(public_x: str) -> str:
    """The RFC 7638 thumbprint of an Ed25519 public key: its key id."""
    members = {"crv": CURVE, "kty": KEY_TYPE, "x": public_x}
    return b64url(hashlib.sha256(canonical_json(members)).digest())


def public_jwk(public_x: str) -> dict[str, str]:
    return {"kty": KEY_TYPE, "crv": CURVE, "x": public_x, "kid": thumbprint(public_x),
            "use": "sig", "alg": ALGORITHM}


def signing_input(header: Mapping[str, Any], payload: Mapping[str, Any]) -> bytes:
    return f"{b64url(canonical_json(header))}.{b64url(canonical_json(payload))}".encode("ascii")


def assemble(signed: bytes, signature: bytes) -> str:
    return f"{signed.decode('ascii')}.{b64url(signature)}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedToken:
    kid: str
    header: Mapping[str, Any]
    payload: Mapping[str, Any]
    signed: bytes
    """The bytes the signature covers."""
    signature: bytes


def parse(token: str) -> ParsedToken:
    """Split and decode a compact JWS whose header says EdDSA and names a key id; the signature
    is not checked here."""
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise MalformedToken("a compact JWS has three dot-separated parts")
    header = strict_loads(b64url_decode(parts[0]))
    payload = strict_loads(b64url_decode(parts[1]))
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise MalformedToken("header and payload must be JSON objects")
    if header.get("alg") != ALGORITHM:
        raise MalformedToken(f"alg must be {ALGORITHM}")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise MalformedToken("the header names no key id")
    if "crit" in header:  # RFC 7515 §4.1.11: we understand no extensions
        raise MalformedToken("unsupported critical header parameters")
    return ParsedToken(kid=kid, header=header, payload=payload,
                       signed=f"{parts[0]}.{parts[1]}".encode("ascii"),
                       signature=b64url_decode(parts[2]))

"""Ed25519 signing keys (`KeyVault`) on `cryptography`, kept as PKCS#8 PEM files in a key
directory: `ARREARS_KEY_DIR`, or `arrears/keys` under the user's data directory
(`XDG_DATA_HOME`, default `~/.local/share`). The directory is created 0700 and each key file
0600; private keys never enter the database or the repository. A key's file name is its key
id (the RFC 7638 thumbprint of its public half)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from arrears.domain.errors import DomainError
from arrears.domain.jws import MalformedToken, b64url, b64url_decode, thumbprint


def default_key_dir(environ: Mapping[str, str]) -> Path:
    explicit = environ.get("ARREARS_KEY_DIR")
    if explicit:
        return Path(explicit)
    data = environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "arrears" / "keys"


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


class FileKeyVault:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, kid: str) -> Path:
        return self.directory / f"{kid}.pem"

    def generate(self) -> tuple[str, str]:
        key = Ed25519PrivateKey.generate()
        public_x = b64url(_raw_public(key.public_key()))
        kid = thumbprint(public_x)
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        # O_EXCL: never overwrite a key; 0600 from the first byte, not chmod-ed afterwards.
        descriptor = os.open(self._path(kid), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            out.write(pem)
        return kid, public_x

    def sign(self, kid: str, data: bytes) -> bytes:
        try:
            pem = self._path(kid).read_bytes()
        except OSError:
            raise DomainError("signing_key", f"the private key {kid} is not in "
                                             f"{self.directory} (set ARREARS_KEY_DIR)") from None
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise DomainError("signing_key", f"{kid} is not an Ed25519 key")
        return key.sign(data)

    def verify(self, public_x: str, data: bytes, signature: bytes) -> bool:
        try:
            raw = b64url_decode(public_x)
            Ed25519PublicKey.from_public_bytes(raw).verify(signature, data)
        except (InvalidSignature, MalformedToken, ValueError):
            return False
        return True

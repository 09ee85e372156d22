"""Verify an Arrears evidence bundle with nothing but Python's standard library and
`cryptography` (pip install cryptography) — no Arrears code.

    python verify_evidence_bundle.py BUNDLE.zip JWKS.json

JWKS.json is the lender's published key set (`arrears credentials keys`), obtained from the
lender, not from the bundle. Prints "intact" and exits 0, or prints the first problem (naming
the entry) and exits 1. The steps are the procedure in the README ("Evidence bundles").
"""

import base64
import binascii
import datetime
import hashlib
import json
import re
import sys
import zipfile
import zlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

MAX_BUNDLE_BYTES = 512 * 1024 * 1024  # refuse a bundle that unpacks to more (a zip bomb)
MIN_RETENTION_YEARS = 3  # no payload is purged sooner after its chain's last event
NAMED = {"entries.jsonl", "checkpoint.jws", "inclusion.json", "manifest.json", "jwks.json"}


def canonical(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode()


def _no_repeats(pairs):
    if len({name for name, _ in pairs}) != len(pairs):
        raise ValueError("a member name appears twice")
    return dict(pairs)


def _finite(text):
    if float(text) in (float("inf"), float("-inf")):
        raise ValueError("a number is out of range")
    return float(text)


def _no_constant(text):
    raise ValueError(f"{text} is not JSON")


def loads(data):
    """Strict JSON: no repeated names, no NaN or Infinity (two readers must agree)."""
    return json.loads(data, object_pairs_hook=_no_repeats, parse_float=_finite,
                      parse_constant=_no_constant)


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def unb64(text):
    """Strict base64url: the URL-safe alphabet, no padding, one spelling per value."""
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if base64.urlsafe_b64encode(data).rstrip(b"=").decode() != text:
        raise ValueError("not canonical base64url")
    return data


def years_after(day, years):
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return datetime.date(day.year + years, 3, 1)


def root_from_path(leaf, index, size, path):
    """RFC 9162 §2.1.3.2: the Merkle root an inclusion path leads to."""
    if not 0 <= index < size:
        return None
    fn, sn, r = index, size - 1, leaf
    for sibling in path:
        if sn == 0:
            return None
        if fn % 2 == 1 or fn == sn:
            r = hashlib.sha256(b"\x01" + sibling + r).digest()
            while fn % 2 == 0 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = hashlib.sha256(b"\x01" + r + sibling).digest()
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def verify(bundle_path, jwks):
    """The first problem found, or None when the bundle is intact."""
    try:
        return _verify(bundle_path, jwks)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError,
            RecursionError, EOFError, NotImplementedError, RuntimeError, zlib.error,
            binascii.Error, zipfile.BadZipFile) as error:  # not the shape described
        return f"bundle: malformed ({error!r})"


def _verify(bundle_path, jwks):
    with zipfile.ZipFile(bundle_path) as bundle:
        infos = [i for i in bundle.infolist() if not i.is_dir()]
        names = [i.filename for i in infos]
        if len(set(names)) != len(names):
            return "bundle: two members with the same name"
        if sum(i.file_size for i in infos) > MAX_BUNDLE_BYTES:
            return "bundle: unpacks to more than 512 MiB"
        files = {i.filename: bundle.read(i) for i in infos}
    # 1. Every member is listed in the manifest with its SHA-256.
    manifest = loads(files["manifest.json"])
    listed = manifest["files"]
    if manifest["format"] != "arrears-evidence/1":
        return "manifest: not an arrears-evidence/1 manifest"
    if set(listed) != set(files) - {"manifest.json"}:
        return "manifest: does not list exactly the files in the bundle"
    for name, digest in listed.items():
        if sha256(files[name]) != digest:
            return f"file {name}: does not match the manifest"
    # 2. Each entry links to the one before it and hashes to what it says.
    prev, entries, named = "0" * 64, [], set(NAMED)
    lines = files["entries.jsonl"].split(b"\n")  # only "\n" ends a line; "\r" is an edit
    if lines[-1] == b"":
        lines.pop()
    for number, line in enumerate(lines, start=1):
        entry = loads(line)
        where = f"entry {number}"
        if set(entry) != {"at", "borrower", "kind", "payload_sha256", "prev", "seq", "hash",
                          "payload"} or type(entry["seq"]) is not int:
            return f"{where}: not an evidence entry"
        if canonical(entry) != line:
            return f"{where}: not in canonical form"
        if entry["seq"] != number:
            return f"{where}: out of order (expected entry {number})"
        if entry["borrower"] != manifest["borrower"] or entry["prev"] != prev:
            return f"{where}: does not follow the entry before it"
        hashed = {k: entry[k] for k in ("at", "borrower", "kind", "payload_sha256", "prev",
                                        "seq")}
        if sha256(canonical(hashed)) != entry["hash"]:
            return f"{where}: its hash does not match its contents"
        payload = entry["payload"]  # null once purged after the retention period
        if payload is not None:
            if sha256(canonical(payload)) != entry["payload_sha256"]:
                return f"{where}: its payload was changed"
            for name, digest in payload.get("files", {}).items():
                content = files.get(f"files/{entry['seq']}/{name}")
                if content is None or sha256(content) != digest:
                    return f"{where}: attached file {name} is missing or changed"
                named.add(f"files/{entry['seq']}/{name}")
        prev = entry["hash"]
        entries.append(entry)
    # Every other member is a file an entry names (nothing slipped in beside the evidence).
    unnamed = sorted(set(files) - named)
    if unnamed:
        return f"file {unnamed[0]}: is not named by any entry"
    # 3. The checkpoint is signed by one of the lender's published keys.
    header_b64, payload_b64, signature_b64 = files["checkpoint.jws"].decode("ascii").strip() \
        .split(".")
    header = loads(unb64(header_b64))
    keys = {k["kid"]: k["x"] for k in jwks["keys"]
            if k.get("kty") == "OKP" and k.get("crv") == "Ed25519"}
    if header.get("alg") != "EdDSA" or header.get("kid") not in keys or "crit" in header:
        return "checkpoint: not signed by a key the lender publishes"
    try:
        Ed25519PublicKey.from_public_bytes(unb64(keys[header["kid"]])).verify(
            unb64(signature_b64), f"{header_b64}.{payload_b64}".encode())
    except InvalidSignature:
        return "checkpoint: the signature does not match"
    checkpoint = loads(unb64(payload_b64))
    if checkpoint.get("typ") != "arrears-evidence-checkpoint":
        return "checkpoint: not an evidence checkpoint"
    # 4. The chain's last entry is a leaf of the signed Merkle tree.
    proof = loads(files["inclusion.json"])
    leaf = proof["leaf"]
    if type(leaf["seq"]) is not int or proof["size"] != checkpoint["size"]:
        return "inclusion.json: not an inclusion proof for this checkpoint"
    leaf_hash = hashlib.sha256(b"\x00" + canonical(leaf)).digest()
    root = root_from_path(leaf_hash, proof["index"], checkpoint["size"],
                          [bytes.fromhex(p) for p in proof["path"]])
    if root is None or root.hex() != checkpoint["root"] or \
            leaf["borrower"] != manifest["borrower"]:
        return "inclusion.json: the chain head is not in the signed checkpoint"
    if leaf["seq"] != len(entries) or entries[-1]["hash"] != leaf["head"]:
        return f"entry {leaf['seq']}: the chain does not end where the checkpoint signed it"
    # 5. Payloads are purged (null) only all at once, from the first entry, and no sooner than
    # the shortest retention after the last of them (one day of slack for time zones).
    purged = [e for e in entries if e["payload"] is None]
    if purged:
        if any(e["payload"] is not None for e in entries[:len(purged)]):
            return "entries: purged after an entry that was not (payload stripped?)"
        last = max(datetime.date.fromisoformat(e["at"][:10]) for e in purged)
        if type(checkpoint["iat"]) is not int:
            return "checkpoint: cannot date the purge"
        signed = datetime.datetime.fromtimestamp(checkpoint["iat"], datetime.UTC).date()
        if signed < years_after(last, MIN_RETENTION_YEARS) - datetime.timedelta(days=1):
            return f"entry {purged[-1]['seq']}: purged before retention ended"
    return None


def main():
    bundle_path, jwks_path = sys.argv[1:3]
    with open(jwks_path, encoding="utf-8") as handle:
        jwks = json.load(handle)
    problem = verify(bundle_path, jwks)
    print(problem or "intact")
    sys.exit(1 if problem else 0)


if __name__ == "__main__":
    main()

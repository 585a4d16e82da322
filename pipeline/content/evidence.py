"""The evidence store: content kept by its SHA-256, in a directory shared by every worker.

`<root>/<first two hex digits>/<sha256>`: the same bytes are stored once, however many cases
point at them, and a file's name proves its content. Writes go to a temporary file renamed into
place, so a reader never sees half a file and two workers storing the same bytes do not clash.
Child-abuse material never reaches this module: content-check decides that before storing.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from schemas import StoredObject


class EvidenceStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes, mime: str) -> StoredObject:
        sha256 = hashlib.sha256(data).hexdigest()
        target = self.path_for(sha256)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
            try:
                with os.fdopen(descriptor, "wb") as out:
                    out.write(data)
                os.replace(temporary, target)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        return StoredObject(sha256=sha256, size=len(data), mime=mime)

    def get(self, sha256: str) -> bytes:
        return self.path_for(sha256).read_bytes()

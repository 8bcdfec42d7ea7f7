"""The bearer token: one random secret in ``<config dir>/serve-token``, readable by its owner
only (0600). Kept across restarts so clients stay configured; replaced when asked, or when
its mode lets others read it (it may have leaked)."""
from __future__ import annotations

import hmac
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from engine.events import StepError

FILE_NAME = "serve-token"


def token_path() -> Path:
    from engine.appconfig import config_dir

    return config_dir() / FILE_NAME


@dataclass(frozen=True)
class Token:
    value: str
    path: Path
    note: str = ""  # why it was (re)made, for the start-up message

    def accepts(self, header: str | None) -> bool:
        """Whether an ``Authorization`` header carries this token (constant-time compare)."""
        if not header:
            return False
        scheme, _, given = header.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(),
                                                                  self.value.encode())


def _write(path: Path, value: str) -> None:
    """Create the file 0600 from the first byte (a temp file renamed over the old one), so
    the secret is never readable by others, not even for a moment."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(value + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def load_or_create(renew: bool = False, path: Path | None = None) -> Token:
    path = path or token_path()
    note = "new token" if renew else ""
    if not renew:
        try:
            st = path.lstat()
        except FileNotFoundError:
            note = "new token"
        else:
            if not stat.S_ISREG(st.st_mode):
                raise StepError(f"The token file {path} is not a plain file.",
                                "Move it away; gsv serve then writes a new one.")
            if st.st_mode & 0o077 or st.st_uid != os.getuid():
                note = "new token: the old file could be read by others"
            else:
                value = path.read_text(encoding="ascii", errors="replace").strip()
                if len(value) >= 32:
                    return Token(value, path)
                note = "new token: the old one was too short"
    value = secrets.token_urlsafe(32)
    _write(path, value)
    return Token(value, path, note)

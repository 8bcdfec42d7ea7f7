"""App-wide settings and folders (platformdirs), stored as TOML.

``GSV_HOME`` overrides every location (tests, portable installs): config, data, cache and
models then live under that one folder.
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path

import platformdirs
import tomli_w

from engine.atomic import atomic_write_bytes

APP = "gsv-tui"


def _base(kind: str) -> Path:
    home = os.environ.get("GSV_HOME")
    if home:
        return Path(home) / kind
    fn = {"config": platformdirs.user_config_dir, "data": platformdirs.user_data_dir,
          "cache": platformdirs.user_cache_dir, "state": platformdirs.user_state_dir}[kind]
    return Path(fn(APP))


def config_dir() -> Path:
    return _base("config")


def data_dir() -> Path:
    return _base("data")


def cache_dir() -> Path:
    return _base("cache")


def config_file() -> Path:
    return config_dir() / "config.toml"


@dataclass
class AppConfig:
    theme: str = "gsv-dark"
    recent_projects: list[str] = field(default_factory=list)
    models_dir: str = ""  # empty: <data_dir>/models
    hf_endpoint: str = ""  # mirror, e.g. https://hf-mirror.com (HF_ENDPOINT wins if set)
    modelscope_endpoint: str = ""
    keymap: dict[str, str] = field(default_factory=dict)  # action id -> keys ("ctrl+s,f2")
    playback_backend: str = "auto"

    def models_path(self) -> Path:
        return Path(self.models_dir).expanduser() if self.models_dir else data_dir() / "models"

    def add_recent(self, project_root: Path, keep: int = 10) -> None:
        p = str(Path(project_root).resolve())
        self.recent_projects = [p] + [r for r in self.recent_projects if r != p][: keep - 1]


def load_config() -> AppConfig:
    path = config_file()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return AppConfig()
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError):
        return AppConfig()  # a broken app config never blocks the app; projects are safe
    known = AppConfig.__dataclass_fields__
    return AppConfig(**{k: v for k, v in data.items() if k in known})


def save_config(cfg: AppConfig) -> None:
    atomic_write_bytes(config_file(), tomli_w.dumps(asdict(cfg)).encode("utf-8"))


def models_dir() -> Path:
    """Where downloaded and user-supplied model folders live."""
    return load_config().models_path()

"""Preset studies shipped with survhte, used as ``preset:NAME`` (TOML files in ``presets/``)."""

from __future__ import annotations

from importlib import resources


def preset_names() -> list[str]:
    """Names of the shipped presets.

    Examples
    --------
    >>> from survhte.study import load_study, preset_names
    >>> "survhte-bench" in preset_names()
    True
    >>> study = load_study("preset:survhte-bench")
    """
    folder = resources.files(__package__) / "presets"
    return sorted(entry.name.removesuffix(".toml") for entry in folder.iterdir()
                  if entry.name.endswith(".toml"))


def preset_text(name: str) -> str:
    """The TOML text of preset ``name`` (e.g. ``"survhte-bench"``).

    Raises
    ------
    FileNotFoundError
        If there is no such preset; the message lists the presets.
    """
    if name not in preset_names():
        raise FileNotFoundError(
            f"no preset {name!r}; presets are {', '.join(f'preset:{p}' for p in preset_names())}"
        )
    return (resources.files(__package__) / "presets" / f"{name}.toml").read_text(encoding="utf-8")

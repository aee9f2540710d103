"""One settings object: every environment variable README documents still reaches its field.

README's settings tables name the variables (abbreviated ones such as `_CHECKPOINT` after
`DEEPFLIX_COMFYUI_WORKFLOW`); each one, set to a value other than its default, must show up
in the field of the section that owns it (core, gateway or jobs), and the old
`api.settings` / `jobs.settings` entry points must be that same object's sections.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, SecretStr, ValidationError
from pydantic_settings import BaseSettings

from deepflix.core import config

ROOT = Path(__file__).resolve().parents[2]
# documented variables read where they are used, not through the settings object (module that reads each)
READ_AT_USE = {
    "DEEPFLIX_VERIFY_HASH_MAX": "deepflix/storage/integrity.py",
    "DEEPFLIX_VIDEO_ENCODER": "deepflix/cut/ffmpeg/encode.py",
}


def _env_name(section: type[BaseSettings], field: str) -> str:
    return (str(section.model_config.get("env_prefix") or "") + field).upper()


def _fields() -> dict[str, tuple[type[BaseSettings], str]]:
    """Each variable -> (section, field); a name two sections share would be a clash."""
    out: dict[str, tuple[type[BaseSettings], str]] = {}
    for section in (config.Settings, config.GatewaySettings, config.JobSettings):
        for field in section.model_fields:
            name = _env_name(section, field)
            assert name not in out, f"{name} is a field of both {out[name][0].__name__} and {section.__name__}"
            out[name] = (section, field)
    return out


def _documented() -> set[str]:
    """The backticked variable names in README's settings tables, abbreviations expanded."""
    text = (ROOT / "README.md").read_text()
    start, end = text.index("### Security limits"), text.index("## Architecture")
    known = set(_fields()) | set(READ_AT_USE)
    names: set[str] = set()
    for line in text[start:end].splitlines():
        if not line.startswith("|"):
            continue
        full = ""
        for token in re.findall(r"`([A-Z_][A-Z0-9_]*)`", line):
            if not token.startswith("_"):
                full = token
                names.add(token)
                continue
            assert full, f"{token} abbreviates nothing in: {line}"
            parts = full.split("_")  # the longest prefix of the row's full name that makes a known variable
            expanded = next((n for k in range(len(parts) - 1, 0, -1) if (n := "_".join(parts[:k]) + token) in known), None)
            assert expanded, f"{token} (after {full}) expands to no variable"
            names.add(expanded)
    return names


def _probe(section: type[BaseSettings], field: str) -> tuple[str, Any]:
    """A value for the variable (as text) that differs from the default and passes the field's checks."""
    info = section.model_fields[field]
    default = info.get_default(call_default_factory=True)
    kind = info.annotation
    if isinstance(default, bool) or kind is bool:
        candidates: list[Any] = [not default]
    elif isinstance(default, int):
        candidates = [default + 1, default - 1]
    elif isinstance(default, float):
        candidates = [default + 1.5, default / 2]
    elif isinstance(default, Path):
        candidates = [default.parent / "probe-dir"]
    elif "int" in str(kind) and "str" not in str(kind):
        candidates = [7]
    elif "float" in str(kind):
        candidates = [1.25]
    else:
        candidates = ["probe-value"]
    for value in candidates:
        try:
            section.model_validate({field: value})
        except ValidationError:
            continue
        return str(value).lower() if isinstance(value, bool) else str(value), value
    raise AssertionError(f"no probe value passes {section.__name__}.{field}")


def _plain(value: Any) -> Any:
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def test_readme_documents_only_real_variables() -> None:
    documented = _documented()
    assert len(documented) > 40  # the tables were read (the abbreviations too)
    missing = documented - set(_fields()) - set(READ_AT_USE)
    assert not missing, f"README documents variables no setting reads: {sorted(missing)}"
    for name, module in READ_AT_USE.items():
        assert name in documented and name in (ROOT / module).read_text(), f"{name} is no longer read by {module}"


@pytest.mark.parametrize("name", sorted(_documented() - set(READ_AT_USE)))
def test_documented_variable_reaches_its_field(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    section, field = _fields()[name]
    text, value = _probe(section, field)
    monkeypatch.setenv(name, text)
    s = config.Settings()
    holder: BaseModel = {config.Settings: s, config.GatewaySettings: s.gateway, config.JobSettings: s.jobs}[section]
    assert _plain(getattr(holder, field)) == value
    # and only there: a fresh object without the variable has the default
    monkeypatch.delenv(name)
    fresh = config.Settings()
    fresh_holder: BaseModel = {config.Settings: fresh, config.GatewaySettings: fresh.gateway, config.JobSettings: fresh.jobs}[section]
    assert _plain(getattr(fresh_holder, field)) != value


def test_section_names_are_not_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """GATEWAY or JOBS in the environment (make's JOBS=4) is not parsed as a section."""
    monkeypatch.setenv("JOBS", "4")
    monkeypatch.setenv("GATEWAY", "x")
    s = config.Settings()
    assert isinstance(s.jobs, config.JobSettings) and isinstance(s.gateway, config.GatewaySettings)


def test_old_entry_points_are_the_sections(monkeypatch: pytest.MonkeyPatch) -> None:
    from deepflix.api.settings import ApiSettings, api_settings, reload_api_settings
    from deepflix.jobs.settings import JobSettings, job_settings

    assert ApiSettings is config.GatewaySettings and JobSettings is config.JobSettings
    monkeypatch.setenv("DEEPFLIX_RATE_BURST", "77")
    monkeypatch.setenv("DEEPFLIX_OWNER_INFLIGHT", "5")
    try:
        config.reload_settings()  # one reload re-reads every section
        assert api_settings() is config.settings.gateway and api_settings().deepflix_rate_burst == 77
        assert job_settings() is config.settings.jobs and job_settings().owner_inflight == 5
        monkeypatch.setenv("DEEPFLIX_RATE_BURST", "78")
        assert reload_api_settings().deepflix_rate_burst == 78 and api_settings().deepflix_rate_burst == 78
    finally:
        monkeypatch.delenv("DEEPFLIX_RATE_BURST")
        monkeypatch.delenv("DEEPFLIX_OWNER_INFLIGHT")
        config.reload_settings()

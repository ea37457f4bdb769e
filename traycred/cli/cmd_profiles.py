"""`traycred profiles`: every profile with its kind, source chain, output section and expiry."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from typing import Any

from traycred.credentials import format_iso
from traycred.errors import KeyringError


@dataclass(frozen=True)
class ProfileRow:
    """What `profiles` shows for one profile (no secrets)."""

    name: str
    kind: str
    chain: tuple[str, ...]
    source: str | None
    region: str | None
    sso_session: str | None
    managed: bool
    output: str | None
    expiration: str | None
    warnings: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "source": self.source,
            "chain": list(self.chain),
            "region": self.region,
            "sso_session": self.sso_session,
            "managed": self.managed,
            "output": self.output,
            "expiration": self.expiration,
            "warnings": list(self.warnings),
        }


def collect_rows() -> list[ProfileRow]:
    """Read the AWS files, the keyring index and settings into one row per profile."""
    from traycred import config
    from traycred.credfile import CredentialsStore
    from traycred.keystore import Keystore
    from traycred.settings import SettingsStore

    notes: list[str] = []
    try:
        keyring_profiles = list(Keystore().profiles())
    except KeyringError as exc:
        keyring_profiles = []
        notes.append(f"keyring not read: {exc.message}")
    model = config.load(keyring_profiles=keyring_profiles)
    settings = SettingsStore().load()
    owned = CredentialsStore(model.credentials_path).owned_sections()
    kept_fresh = set(settings.kept_fresh())
    rows: list[ProfileRow] = []
    for name in sorted(model.profiles):
        profile = model.profiles[name]
        managed = name in kept_fresh
        # Where traycred writes it: a default that is not managed only gets [default].
        sections = settings.sections_of(name) if managed else ()
        output = sections[0] if sections else None
        section = owned.get(output) if output else None
        warnings = list(profile.warnings)
        if profile.invalid_reason:
            warnings.insert(0, profile.invalid_reason)
        for written in sections:
            shadow = config.shadowed_reason(profile, written, model)
            if shadow:
                warnings.append(shadow)
        if notes and profile.kind is config.Kind.INVALID:
            warnings.extend(notes)
        rows.append(
            ProfileRow(
                name=name,
                kind=str(profile.kind),
                chain=profile.chain,
                source=profile.source,
                region=profile.region,
                sso_session=profile.sso_session.label if profile.sso_session else None,
                managed=managed,
                output=output,
                expiration=format_iso(section.expiration) if section else None,
                warnings=tuple(warnings),
            )
        )
    return rows


def render_table(rows: list[ProfileRow]) -> str:
    if not rows:
        return "No profiles found. Add one with `traycred keys add NAME`, or `aws configure sso`."
    headers = ("PROFILE", "KIND", "SOURCE", "REGION", "OUTPUT", "EXPIRES")
    table = [
        (
            r.name,
            r.kind,
            " -> ".join(r.chain[1:]) if len(r.chain) > 1 else (r.sso_session or r.source or ""),
            r.region or "",
            f"[{r.output}]" if r.output else "",
            r.expiration or "",
        )
        for r in rows
    ]
    widths = [max(len(h), *(len(row[i]) for row in table)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    for row, r in zip(table, rows, strict=True):
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        lines.extend(f"    ! {w}" for w in r.warnings)
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    rows = collect_rows()
    if args.json:
        print(json.dumps([r.as_json() for r in rows], indent=2))
    else:
        print(render_table(rows))
    return 0

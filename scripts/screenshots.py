#!/usr/bin/env python3
"""Render the README's screenshots of the tray icons and dialogs into assets/screenshots/.

Run from the repository root: `python scripts/screenshots.py [--out assets/screenshots]`.
Uses Qt's offscreen platform unless QT_QPA_PLATFORM is set, and the Fusion style, so the
pictures do not depend on the desktop they were taken on.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def icon_sheet(out: Path) -> Path:
    """Every state at tray sizes on a light and a dark panel, plus an 8x zoom of the 22 px icon."""
    from PIL import Image, ImageDraw, ImageFont

    from traycred.ui.icon import IconState, app_icon, draw_icon

    sizes = (16, 22, 24, 32, 48, 64)
    zoom = 8
    row_h = max(64, 22 * zoom) + 24
    label_w = 120
    col_w = [max(s, 40) + 16 for s in sizes] + [22 * zoom + 16]
    panel_w = label_w + sum(col_w)
    width, height = panel_w * 2, 36 + row_h * len(IconState)
    sheet = Image.new("RGBA", (width, height + 280), (255, 255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=14)
    panels = (
        ((242, 242, 242), (30, 30, 30), "light panel"),
        ((36, 38, 44), (230, 230, 230), "dark panel"),
    )
    for index, (background, ink, title) in enumerate(panels):
        x0 = index * panel_w
        draw.rectangle([x0, 0, x0 + panel_w, height], fill=(*background, 255))
        draw.text((x0 + 10, 10), title, fill=ink, font=font)
        x = x0 + label_w
        for size in sizes:
            draw.text((x, 10), f"{size}px", fill=ink, font=font)
            x += max(size, 40) + 16
        draw.text((x, 10), "22px x8", fill=ink, font=font)
        for row, state in enumerate(IconState):
            y = 36 + row * row_h
            draw.text((x0 + 10, y + 8), state.value, fill=ink, font=font)
            x = x0 + label_w
            for size in sizes:
                sheet.alpha_composite(draw_icon(state, size), (x, y))
                x += max(size, 40) + 16
            big = draw_icon(state, 22).resize((22 * zoom, 22 * zoom), Image.Resampling.NEAREST)
            sheet.alpha_composite(big, (x, y))
    y = height + 12
    draw.text((10, y), "app icon (256, 48 px)", fill=(30, 30, 30), font=font)
    sheet.alpha_composite(app_icon(256), (10, y + 20))
    sheet.alpha_composite(app_icon(48), (280, y + 20))
    path = out / "icons.png"
    sheet.convert("RGB").save(path, optimize=True)
    return path


def dialogs(out: Path) -> list[Path]:
    from PySide6.QtWidgets import QApplication, QLineEdit, QWidget

    from traycred.credentials import utcnow
    from traycred.ui.qt.dialogs import AboutDialog, AddKeyDialog, MfaDialog, SsoSignInDialog

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setStyle("Fusion")
    shots: list[tuple[str, QWidget]] = []

    serial = "arn:aws:iam::123456789012:mfa/alice"
    mfa = MfaDialog(("dev", "prod-admin"), serial)
    mfa.code_field.setText("4281")
    shots.append(("dialog-mfa.png", mfa))

    refused = MfaDialog(
        ("dev", "prod-admin"),
        serial,
        "MultiFactorAuthentication failed with invalid MFA one time pass code.",
    )
    refused.code_field.setText("902113")
    shots.append(("dialog-mfa-error.png", refused))

    busy = MfaDialog(("dev",), serial, stay_open=True)
    busy.code_field.setText("902113")
    busy.set_busy(True)
    shots.append(("dialog-mfa-checking.png", busy))

    now = utcnow()
    start = now - timedelta(seconds=139)
    sso = SsoSignInDialog(
        "corp",
        ("dev-readonly", "prod-admin", "sandbox"),
        "WDJB-MJHT",
        "https://device.sso.eu-west-1.amazonaws.com/?user_code=WDJB-MJHT",
        start + timedelta(minutes=10),
        now=lambda: now,
    )
    shots.append(("dialog-sso.png", sso))

    expired = SsoSignInDialog(
        "corp",
        ("dev-readonly",),
        "WDJB-MJHT",
        "https://device.sso.eu-west-1.amazonaws.com/?user_code=WDJB-MJHT",
        now - timedelta(seconds=1),
        now=lambda: now,
    )
    shots.append(("dialog-sso-expired.png", expired))

    add = AddKeyDialog(["default", "dev", "prod"], stored_keys={"prod": "AKIAOLDKEYEXAMPLE000"})
    line = add.profile_field.lineEdit()
    assert line is not None
    line.setText("prod")
    add.key_id_field.setText("AKIAIOSFODNN7EXAMPLE")
    add.secret_field.setText("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    add.mfa_field.setText(serial)
    shots.append(("dialog-add-key.png", add))

    asia = AddKeyDialog(["default", "dev", "prod"])
    line = asia.profile_field.lineEdit()
    assert line is not None
    line.setText("work")
    asia.key_id_field.setText("ASIAIOSFODNN7EXAMPLE")
    shots.append(("dialog-add-key-asia.png", asia))

    shots.append(("dialog-about.png", AboutDialog([("Keyring", "SecretService (GNOME)")])))

    from types import MappingProxyType

    from traycred.settings import ProfileSettings, Settings
    from traycred.ui.qt.dialogs.import_keys_dialog import ImportKeysDialog
    from traycred.ui.qt.dialogs.settings_dialog import SettingsDialog

    settings = Settings(
        default_profile="deploy",
        profiles=MappingProxyType(
            {
                "admin": ProfileSettings(managed=True),
                "deploy": ProfileSettings(managed=True, output="deploy-live"),
                "dev-admin": ProfileSettings(managed=True),
            }
        ),
    )
    shots.append(
        (
            "dialog-settings.png",
            SettingsDialog(
                settings, profiles=["admin", "alice", "deploy", "dev-admin"], start_at_login=True
            ),
        )
    )
    shots.append(
        (
            "dialog-import-keys.png",
            ImportKeysDialog(
                {"ci": "AKIAEXAMPLECIUSER001", "legacy": "AKIAIOSFODNN7EXAMPLE"},
                keyring="SecretService (GNOME)",
                credentials_file="~/.aws/credentials",
            ),
        )
    )

    written: list[Path] = []
    for name, widget in shots:
        widget.show()
        widget.adjustSize()
        app.processEvents()
        # Focus selects a field's text on show; a screenshot reads better without the highlight.
        for field in widget.findChildren(QLineEdit):
            field.deselect()
        path = out / name
        widget.grab().save(str(path))
        widget.close()
        written.append(path)
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "assets" / "screenshots")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    args.out.mkdir(parents=True, exist_ok=True)
    for path in [icon_sheet(args.out), *dialogs(args.out)]:
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

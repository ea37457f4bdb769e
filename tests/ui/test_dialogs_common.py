"""Shared dialog pieces: icons handed to Qt, the About box, how profile lists read."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSize
from PySide6.QtWidgets import QDialog
from pytestqt.qtbot import QtBot

from tests.ui.conftest import shown_text
from traycred import __version__
from traycred.ui.icon import STANDARD_SIZES, IconState, draw_icon
from traycred.ui.qt import app_qicon, pil_to_qimage, state_qicon
from traycred.ui.qt.dialogs import AboutDialog
from traycred.ui.qt.dialogs._common import join_names

pytestmark = pytest.mark.gui


def test_pillow_icons_reach_qt_pixel_for_pixel(qtbot: QtBot) -> None:
    image = draw_icon(IconState.ERROR, 32)
    qimage = pil_to_qimage(image)
    assert (qimage.width(), qimage.height()) == (32, 32)
    for x, y in [(0, 0), (16, 16), (26, 26), (10, 22)]:
        r, g, b, a = image.getpixel((x, y))  # type: ignore[misc]
        colour = qimage.pixelColor(x, y)
        assert colour.alpha() == a
        if a == 255:
            assert (colour.red(), colour.green(), colour.blue()) == (r, g, b)


def test_state_icons_carry_every_standard_size(qtbot: QtBot) -> None:
    for state in IconState:
        icon = state_qicon(state)
        sizes = {(s.width(), s.height()) for s in icon.availableSizes()}
        assert sizes == {(n, n) for n in STANDARD_SIZES}
    assert not app_qicon().pixmap(QSize(48, 48)).isNull()


def test_about_shows_the_version_and_given_details(qtbot: QtBot) -> None:
    dialog = AboutDialog([("Keyring", "SecretService"), ("Config", "/home/u/.aws/config")])
    qtbot.addWidget(dialog)
    dialog.show()
    text = shown_text(dialog)
    assert f"traycred {__version__}" in text
    assert "SecretService" in text
    assert "/home/u/.aws/config" in text
    dialog.reject()
    assert dialog.result() == QDialog.DialogCode.Rejected


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        ((), ""),
        (("dev",), "dev"),
        (("dev", "prod"), "dev and prod"),
        (("a", "b", "c"), "a, b and c"),
        (("a", "b", "c", "d", "e"), "a, b, c and 2 more"),
    ],
)
def test_profile_lists_read_naturally(names: tuple[str, ...], expected: str) -> None:
    assert join_names(names) == expected

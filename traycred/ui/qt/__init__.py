"""Qt front end helpers: Pillow icons as QIcon/QImage, shared by the tray and the dialogs.

Importing this package imports PySide6; the engine and the CLI never do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QIcon, QImage, QPixmap

from traycred.ui.icon import STANDARD_SIZES, IconState, app_icon, draw_icon

if TYPE_CHECKING:
    from PIL import Image


def pil_to_qimage(image: Image.Image) -> QImage:
    """A deep copy of a Pillow image as a QImage (the Pillow buffer may be freed afterwards)."""
    rgba = image.convert("RGBA")
    data = rgba.tobytes("raw", "RGBA")
    qimage = QImage(data, rgba.width, rgba.height, rgba.width * 4, QImage.Format.Format_RGBA8888)
    return qimage.copy()


def _icon_from(images: list[Image.Image]) -> QIcon:
    icon = QIcon()
    for image in images:
        icon.addPixmap(QPixmap.fromImage(pil_to_qimage(image)))
    return icon


def state_qicon(state: IconState) -> QIcon:
    """The tray icon for `state` at every standard size, so Qt never scales a bitmap up."""
    return _icon_from([draw_icon(state, size) for size in STANDARD_SIZES])


def app_qicon() -> QIcon:
    """The product logo as a window icon (dialogs, About)."""
    return _icon_from([app_icon(size) for size in (16, 24, 32, 48, 64, 128, 256)])


def pyside_leaks_none() -> bool:
    """True for PySide6 builds that drop a reference to None on every call of a void method.

    PySide6 6.12.0 on Python 3.11 does (None became immortal only in 3.12): a long-running tray
    would abort with "deallocating None" after some thousands of Qt calls. 6.11.3 does not.
    """
    import sys

    from PySide6.QtCore import QObject

    if sys.version_info >= (3, 12):
        return False
    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(50):
        probe.setObjectName("probe")
    return sys.getrefcount(None) < before - 25

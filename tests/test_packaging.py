"""The PyInstaller bundle builds and its smoke test passes, by the one documented command.

`packaging/build_bundle.sh` builds the one-folder app (about 35 s here, plus a PyInstaller install
when it is missing) and runs the bundled executable alone: `--version`, `profiles` on a sample
config with every kind, and one STS call through the bundled botocore against the emulator.
It runs in CI (well under the 3 minutes we allow it); TRAYCRED_SKIP_BUNDLE=1 skips it locally.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "packaging" / "build_bundle.sh"


@pytest.mark.timeout(900)
@pytest.mark.skipif(sys.platform != "linux", reason="the build script and its checks are Linux's")
@pytest.mark.skipif(os.environ.get("TRAYCRED_SKIP_BUNDLE") == "1", reason="TRAYCRED_SKIP_BUNDLE=1")
def test_bundle_builds_and_passes_its_smoke_test(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHON": sys.executable, "BUNDLE_DIR": str(tmp_path / "bundle")}
    result = subprocess.run(
        ["bash", str(SCRIPT)], capture_output=True, text=True, timeout=840, env=env, cwd=REPO
    )
    print(result.stdout)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert "traycred --version -> traycred " in out
    assert "profiles --json: all 7 kinds as expected" in out
    assert "env deploy: AssumeRole via the emulator gave ASIA" in out
    assert out.rstrip().endswith(
        f"smoke test passed: {tmp_path / 'bundle' / 'dist' / 'traycred' / 'traycred'}"
    )
    app_dir = tmp_path / "bundle" / "dist" / "traycred" / "_internal"
    # What must not be in it: awscli (it swaps botocore), tkinter, QtWebEngine, all of botocore's
    # ~400 service models.
    assert not (app_dir / "awscli").exists()
    assert not list(app_dir.rglob("*tkinter*"))
    assert not list(app_dir.rglob("*WebEngine*"))
    models = sorted(p.name for p in (app_dir / "botocore" / "data").iterdir() if p.is_dir())
    assert models == ["sso", "sso-oidc", "sts"]

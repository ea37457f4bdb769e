"""aws.py: per-profile botocore sessions share one data loader, and still honour each profile's
own connection settings (endpoint_url), over real HTTP to the emulator."""

from __future__ import annotations

from pathlib import Path

import pytest

from traycred import aws
from traycred.credentials import Credentials
from traycred.emulator import Emulator
from traycred.emulator.scenario import CI_ACCESS_KEY_ID, CI_SECRET_ACCESS_KEY
from traycred.errors import NetworkError


def test_sessions_share_one_loader_and_keep_their_own_endpoints(
    isolated_home: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint = emulator.env()["AWS_ENDPOINT_URL"]
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    config = isolated_home / ".aws" / "config"
    config.parent.mkdir(mode=0o700, exist_ok=True)
    config.write_text(
        f"[profile here]\nregion = us-east-1\nendpoint_url = {endpoint}\n\n"
        "[profile nowhere]\nregion = us-east-1\nendpoint_url = http://127.0.0.1:9\n"
    )
    aws.reset_sessions()
    here, nowhere = aws.botocore_session("here"), aws.botocore_session("nowhere")
    assert here is not nowhere
    assert here.get_component("data_loader") is nowhere.get_component("data_loader")

    key = Credentials(CI_ACCESS_KEY_ID, CI_SECRET_ACCESS_KEY)
    sts = aws.client("sts", credentials=key, profile="here")
    identity = aws.call(sts.get_caller_identity, what="GetCallerIdentity")
    assert identity["Arn"] == "arn:aws:iam::111111111111:user/ci"
    with pytest.raises(NetworkError, match=r"127\.0\.0\.1:9"):
        far = aws.client("sts", credentials=key, profile="nowhere", max_attempts=1)
        aws.call(far.get_caller_identity, what="GetCallerIdentity")
    # A reset (config changed) makes new sessions, on the same loader.
    aws.reset_sessions()
    assert aws.botocore_session("here").get_component("data_loader") is here.get_component(
        "data_loader"
    )

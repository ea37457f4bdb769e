"""Property tests: any source_profile graph, loops included, classifies without an exception."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from traycred import config
from traycred.config import Kind


@dataclass(frozen=True)
class Node:
    role: bool  # has role_arn
    keys: bool  # has static keys in the credentials file
    source: int | None  # index of its source_profile (None: no source_profile line)
    missing_source: bool  # source_profile names a profile that does not exist


nodes = st.builds(
    Node,
    role=st.booleans(),
    keys=st.booleans(),
    source=st.none() | st.integers(min_value=0, max_value=30),
    missing_source=st.booleans(),
)
graphs = st.lists(nodes, min_size=1, max_size=25)


def write_graph(folder: Path, graph: list[Node]) -> tuple[Path, Path]:
    cfg, creds = [], []
    for i, node in enumerate(graph):
        cfg.append(f"[profile p{i}]")
        if node.role:
            cfg.append(f"role_arn = arn:aws:iam::1:role/p{i}")
        if node.source is not None:
            target = "ghost" if node.missing_source else f"p{node.source % len(graph)}"
            cfg.append(f"source_profile = {target}")
        if node.keys:
            creds += [f"[p{i}]", "aws_access_key_id = AKIA", "aws_secret_access_key = s"]
    (folder / "config").write_text("\n".join(cfg) + "\n")
    (folder / "credentials").write_text("\n".join(creds) + "\n")
    return folder / "config", folder / "credentials"


def next_of(graph: list[Node], i: int) -> int | None:
    """The profile botocore follows from p{i} used as a source, or None where the walk ends."""
    node = graph[i]
    if not node.role or node.keys or node.source is None or node.missing_source:
        return None
    return node.source % len(graph)


def loop_members(graph: list[Node]) -> set[int]:
    """Keyless role profiles whose source_profile walk comes back to themselves."""
    members: set[int] = set()
    for start in range(len(graph)):
        seen: set[int] = set()
        node = next_of(graph, start)
        while node is not None and node not in seen and node != start:
            seen.add(node)
            node = next_of(graph, node)
        if node == start:
            members.add(start)
    return members


@settings(max_examples=300, deadline=None)
@given(graphs)
def test_random_source_graphs(graph: list[Node]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        model = config.load(*write_graph(Path(folder), graph))
    assert set(model.profiles) == {f"p{i}" for i in range(len(graph))}
    loops = loop_members(graph)
    for i, node in enumerate(graph):
        profile = model.profiles[f"p{i}"]
        reason = profile.invalid_reason or ""
        assert (profile.kind is Kind.INVALID) == (profile.invalid_reason is not None)
        if i in loops:
            assert profile.kind is Kind.INVALID
            assert reason.startswith(f"source_profile loop: p{i} -> "), reason
        elif not node.keys and "source_profile loop" in reason:
            # Not on a loop itself: it leads into one, and says through which source.
            assert reason.startswith("source profile p"), reason
        if profile.is_usable:
            assert profile.chain[0] == f"p{i}"
            base = model.profiles[profile.chain[-1]]
            if node.role:
                assert profile.kind is Kind.ASSUME_ROLE
                assert len(profile.chain) >= 2
                # The base holds the keys the chain is signed with.
                assert graph[int(base.name[1:])].keys
                assert profile.base_kind is Kind.STATIC_KEYS
                assert len(set(profile.chain[1:])) == len(profile.chain) - 1
            else:
                assert profile.chain == (f"p{i}",)
                assert profile.kind is Kind.STATIC_KEYS


def test_a_long_chain_and_a_long_loop_classify(tmp_path: Path) -> None:
    # Walks are iterative: depth is not limited by Python's recursion limit.
    depth = 3000
    lines = ["[profile k]", "credential_process = /bin/creds"]
    for i in range(depth):
        source = "k" if i == 0 else f"c{i - 1}"
        lines += [
            f"[profile c{i}]",
            "role_arn = arn:aws:iam::1:role/x",
            f"source_profile = {source}",
        ]
    for i in range(depth):
        lines += [f"[profile l{i}]", "role_arn = arn:aws:iam::1:role/x"]
        lines.append(f"source_profile = l{(i + 1) % depth}")
    (tmp_path / "config").write_text("\n".join(lines) + "\n")
    model = config.load(tmp_path / "config", tmp_path / "credentials")
    top = model.get(f"c{depth - 1}")
    assert top.kind is Kind.ASSUME_ROLE
    assert len(top.chain) == depth + 1
    assert top.chain[-1] == "k"
    assert top.base_kind is Kind.PROCESS
    assert all(model.get(f"l{i}").kind is Kind.INVALID for i in range(depth))
    assert model.get("l5").invalid_reason == (
        "source_profile loop: l5 -> l6 -> l7 -> l8 -> l9 -> l10 -> ... -> l4 -> l5 (3000 profiles)"
    )

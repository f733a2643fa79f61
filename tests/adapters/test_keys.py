"""The keys file: created once with mode 0600, reused after, every key published."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from infrastructure.security.keys import load_or_create_keys, new_signing_key


def test_the_keys_file_is_created_private_on_first_start(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "jwks.json"
    keys = load_or_create_keys(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(keys.refresh_secret) == 32
    assert keys.signing.keys[0].as_dict()["alg"] == "ES256"


def test_a_second_start_reads_the_same_keys(tmp_path: Path) -> None:
    path = tmp_path / "jwks.json"
    first, second = load_or_create_keys(path), load_or_create_keys(path)
    assert first.refresh_secret == second.refresh_secret
    assert first.signing.keys[0].kid == second.signing.keys[0].kid


def test_an_added_key_is_accepted_while_the_first_one_signs(tmp_path: Path) -> None:
    path = tmp_path / "jwks.json"
    load_or_create_keys(path)
    content = json.loads(path.read_text())
    content["keys"]["keys"].append(new_signing_key())
    path.write_text(json.dumps(content))
    keys = load_or_create_keys(path)
    assert len(keys.signing.keys) == 2

"""The CLI credentials file against another local user: planted links and a folder others can write (issue 17,
item 17). Nothing may be written through a link, and a shared folder is refused or, when ours, made private."""
from __future__ import annotations

import os
import stat

import pytest

from outreach_connector.cli import credentials_file
from outreach_connector.cli.credentials_file import CredentialsFile, CredentialsFileError, Entry


def entry() -> Entry:
    return Entry(profile="default", client_id="client", token_url="https://api.outreach.io/oauth/token",
                 refresh_token="refresh-secret", seeded_from="seed")


@pytest.fixture
def folder(tmp_path):
    folder = tmp_path / "config"
    folder.mkdir(mode=0o700)
    return folder


def test_the_temporary_file_gets_a_fresh_random_name_created_exclusively(folder, tmp_path, monkeypatch):
    """The old name was .credentials.json.<pid>.tmp, opened with O_TRUNC through any planted link."""
    victim = tmp_path / "victim"
    victim.write_text("precious")
    for pid in range(os.getpid() - 2, os.getpid() + 3):
        (folder / f".credentials.json.{pid}.tmp").symlink_to(victim)
    opened: list[tuple[str, int]] = []
    real_open = os.open
    monkeypatch.setattr(credentials_file.os, "open",
                        lambda path, flags, *mode: opened.append((str(path), flags)) or real_open(path, flags, *mode))
    CredentialsFile(folder).save(entry())
    assert victim.read_text() == "precious"
    (temporary, flags), = [(path, flags) for path, flags in opened if path.endswith(".tmp")]
    required = os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    assert flags & required == required
    assert len(os.path.basename(temporary)) >= len(".credentials.json..tmp") + 16  # 64 random bits
    assert CredentialsFile(folder).find("default").refresh_token == "refresh-secret"


def test_a_credentials_file_that_is_a_link_is_refused_not_followed(folder, tmp_path):
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text('{"version": 1, "entries": {}}')
    (folder / "credentials.json").symlink_to(elsewhere)
    with pytest.raises(CredentialsFileError, match="symbolic link"):
        CredentialsFile(folder).entries()
    with pytest.raises(CredentialsFileError, match="symbolic link"):
        CredentialsFile(folder).save(entry())
    assert elsewhere.read_text() == '{"version": 1, "entries": {}}'


def test_a_lock_file_that_is_a_link_is_refused(folder, tmp_path):
    target = tmp_path / "target"
    (folder / ".credentials.json.lock").symlink_to(target)
    with pytest.raises(CredentialsFileError, match="lock file .* symbolic link"):
        CredentialsFile(folder).save(entry())
    assert not target.exists()


def test_our_folder_that_others_can_write_is_made_private(folder):
    folder.chmod(0o777)
    CredentialsFile(folder).save(entry())
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    folder.chmod(0o777)
    assert [e.profile for e in CredentialsFile(folder).entries()] == ["default"]
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_someone_elses_folder_that_others_can_write_is_refused(folder, monkeypatch):
    folder.chmod(0o777)
    monkeypatch.setattr(credentials_file.os, "geteuid", lambda: os.stat(folder).st_uid + 1)
    with pytest.raises(CredentialsFileError, match="can be written by other users and is not yours"):
        CredentialsFile(folder).save(entry())
    with pytest.raises(CredentialsFileError, match="OUTREACH_CONNECTOR_CONFIG_DIR"):
        CredentialsFile(folder).entries()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o777
    assert list(folder.iterdir()) == []

"""What only the S3 back-end has: its settings, an outage, and `filrouge storage copy`."""

import pytest
from pydantic import SecretStr, ValidationError
from typer.testing import CliRunner

from app.cli import cli
from app.core.config import Settings, get_settings
from app.core.errors import StorageUnavailable
from app.core.storage import LocalStorage, get_storage
from app.core.storage_s3 import S3Storage


def test_s3_needs_its_credentials_in_the_settings():
    with pytest.raises(ValidationError, match="ACCESS_KEY_ID"):
        Settings(storage_url="s3://filrouge/prod")


@pytest.mark.parametrize("url", ["http://filrouge", "s3://", "s3://Bucket_Name/x", "s3://b?x=1"])
def test_a_storage_url_that_is_no_bucket_is_refused(url):
    with pytest.raises(ValidationError, match="STORAGE_URL"):
        Settings(storage_url=url, storage_access_key_id="k", storage_secret_access_key="s")


def test_the_secret_never_shows_in_the_settings():
    settings = Settings(
        storage_url="s3://filrouge", storage_access_key_id="k", storage_secret_access_key="hush-1"
    )
    assert "hush-1" not in repr(settings) and "hush-1" not in str(settings.model_dump())


def test_the_default_store_is_the_local_directory(storage_dir):
    store = get_storage()
    assert isinstance(store, LocalStorage) and store.root == storage_dir


def test_objects_sit_under_the_prefix_fanned_out_like_files(s3_storage, s3_server):
    key = s3_storage.save(b"x")
    name = s3_storage.object_name(key)
    assert name == f"{s3_storage.prefix}/{key[:2]}/{key}"
    assert s3_storage.client.head_object(Bucket=s3_server.bucket, Key=name)["ContentLength"] == 1


def test_an_outage_is_a_french_error_and_never_shows_the_secret(s3_outage, s3_server, log_lines):
    with pytest.raises(StorageUnavailable, match="Le stockage des fichiers ne répond pas"):
        s3_outage.save(b"lost")
    with pytest.raises(StorageUnavailable):
        s3_outage.open("0" * 40)
    lines = log_lines()
    assert any(line.get("message") == "storage unavailable" for line in lines)
    assert s3_server.secret_access_key not in str(lines)


def test_wrong_credentials_are_an_outage_too(s3_storage, monkeypatch):
    monkeypatch.setattr(get_settings(), "storage_secret_access_key", SecretStr("wrong"))
    with pytest.raises(StorageUnavailable):
        get_storage().save(b"refused")


# ---- filrouge storage copy ------------------------------------------------------------------


@pytest.fixture
def local_store(tmp_path) -> LocalStorage:
    store = LocalStorage(tmp_path / "files")
    for index in range(5):
        store.save(f"file {index}".encode() * 1000)
    store.temporary_path().write_bytes(b"scratch, never copied")
    return store


def copy(local_store, target: S3Storage):
    url = f"s3://{target.bucket}/{target.prefix}"
    return CliRunner().invoke(
        cli, ["storage", "copy", "--from", str(local_store.root), "--to", url]
    )


def test_copy_uploads_every_file_under_its_key_and_checks_it(local_store, s3_storage):
    result = copy(local_store, s3_storage)
    assert result.exit_code == 0, result.output
    assert (
        "5 fichiers vérifiés : 5 copiés, 0 déjà présents, 0 recopiés, 0 en échec." in result.output
    )
    for key in local_store.keys():
        assert s3_storage.read(key) == local_store.read(key)


def test_copy_again_changes_nothing(local_store, s3_storage):
    copy(local_store, s3_storage)
    result = copy(local_store, s3_storage)
    assert result.exit_code == 0, result.output
    assert (
        "5 fichiers vérifiés : 0 copiés, 5 déjà présents, 0 recopiés, 0 en échec." in result.output
    )


def test_copy_reports_and_replaces_an_object_that_differs(local_store, s3_storage, s3_server):
    copy(local_store, s3_storage)
    damaged = sorted(local_store.keys())[2]
    s3_storage.client.put_object(
        Bucket=s3_server.bucket, Key=s3_storage.object_name(damaged), Body=b"truncated"
    )
    result = copy(local_store, s3_storage)
    assert result.exit_code == 0, result.output
    assert f"Objet différent du fichier, recopié : {damaged}" in result.output
    assert "4 déjà présents, 1 recopiés, 0 en échec." in result.output
    assert s3_storage.read(damaged) == local_store.read(damaged)


def test_copy_to_an_s3_outage_server_says_so(local_store, s3_outage):
    result = copy(local_store, s3_outage)
    assert result.exit_code == 1
    assert "Le stockage des fichiers ne répond pas" in result.output


def test_copy_needs_an_s3_address(local_store, storage_dir):
    result = CliRunner().invoke(
        cli, ["storage", "copy", "--from", str(local_store.root), "--to", "/mnt/elsewhere"]
    )
    assert result.exit_code == 2
    assert "s3://bucket" in result.output

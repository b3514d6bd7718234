from pathlib import Path

import pytest

from heimdex.config import GIB, ConfigError, Settings

pytestmark = pytest.mark.unit


def test_defaults_match_the_readme():
    settings = Settings.from_env({})
    assert settings.data_dir == Path("./data").resolve()
    assert settings.database_url is None and settings.redis_url is None
    assert settings.models == "offline"
    assert settings.max_duration_s == 600
    assert settings.max_upload_bytes == GIB
    assert settings.pg_dir == settings.data_dir / "pg"


def test_environment_overrides(tmp_path):
    settings = Settings.from_env(
        {
            "HEIMDEX_DATA_DIR": str(tmp_path),
            "DATABASE_URL": "postgresql://db/heimdex",
            "REDIS_URL": "redis://localhost:6379/0",
            "HEIMDEX_MODELS": "hub",
            "HEIMDEX_MAX_DURATION_S": "120.5",
            "HEIMDEX_MAX_UPLOAD_BYTES": "1000",
        }
    )
    assert settings.data_dir == tmp_path
    assert settings.database_url == "postgresql://db/heimdex"
    assert settings.redis_url == "redis://localhost:6379/0"
    assert settings.models == "hub"
    assert settings.max_duration_s == 120.5
    assert settings.max_upload_bytes == 1000


@pytest.mark.parametrize(
    "environ, variable",
    [({"HEIMDEX_MAX_DURATION_S": "ten"}, "HEIMDEX_MAX_DURATION_S"), ({"HEIMDEX_MODELS": "cloud"}, "HEIMDEX_MODELS")],
)
def test_bad_values_name_the_variable(environ, variable):
    with pytest.raises(ConfigError, match=variable) as caught:
        Settings.from_env(environ)
    assert caught.value.exit_code == 2


def test_on_a_space_jobs_run_in_the_apps_own_process():
    """ZeroGPU lends the GPU only to calls from the app's process: a Space runs jobs in threads unless told not to."""
    assert Settings.from_env({"SPACE_ID": "someone/heimdex"}).job_threads is True
    assert Settings.from_env({"SPACE_ID": "someone/heimdex", "HEIMDEX_JOB_THREADS": "0"}).job_threads is False
    assert Settings.from_env({}).job_threads is False


def test_the_space_card_and_its_packages_match_the_install():
    """README.md's card is a Gradio-SDK Space on app.py; packages.txt holds the Debian packages the install does."""
    import re

    from helpers import ROOT

    card = (ROOT / "README.md").read_text().split("---")[1]
    assert re.search(r"^sdk: gradio$", card, re.M) and re.search(r"^app_file: app.py$", card, re.M)
    gradio = re.search(r"^gradio==(\S+)$", (ROOT / "requirements.txt").read_text(), re.M)
    assert gradio and re.search(rf"^sdk_version: {re.escape(gradio.group(1))}$", card, re.M)
    listed = [
        line.split("#")[0].split()[0]
        for line in (ROOT / "scripts" / "system-packages.txt").read_text().splitlines()
        if line.split("#")[0].strip()
    ]
    assert (ROOT / "packages.txt").read_text().split() == [entry.split(":")[0] for entry in listed]

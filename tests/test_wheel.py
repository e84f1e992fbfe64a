"""The built distributions: what they hold, and the wheel working with only itself installed.

The wheel and the sdist are built once for the session (``python -m build
--no-isolation``: the wheel is built from the sdist, so both are proved). The
wheel is installed with ``pip --no-deps`` into a new virtual environment that
sees this one's dependencies (a ``.pth`` file naming its site-packages) but
not the source tree, nor its editable install.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest
from sybil import Sybil
from sybil.parsers.markdown import CodeBlockParser

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 120


def _run(command: list[str], cwd: Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )


@pytest.fixture(scope="session")
def distributions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("dist")
    built = _run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), "."], ROOT
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = out.glob("*.whl")
    (sdist,) = out.glob("*.tar.gz")
    return {"wheel": wheel, "sdist": sdist}


@pytest.fixture(scope="session")
def installed(distributions: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtual environment's bin directory, with the wheel installed and nothing else."""
    home = tmp_path_factory.mktemp("wheel-venv")
    venv.create(home / "venv", with_pip=False)
    python = home / "venv" / ("Scripts" if os.name == "nt" else "bin") / "python"
    purelib = _run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], home
    )
    # This environment's dependencies, after the new one's own site-packages.
    Path(purelib.stdout.strip(), "_test_dependencies.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n"
    )
    pip = _run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
         "--no-deps", "--no-index", str(distributions["wheel"])],
        home,
    )  # fmt: skip
    assert pip.returncode == 0, pip.stdout + pip.stderr
    return python.parent


def test_the_wheel_holds_the_package_its_licence_and_nothing_else(
    distributions: dict[str, Path],
) -> None:
    with zipfile.ZipFile(distributions["wheel"]) as wheel:
        names = wheel.namelist()
        metadata = wheel.read("cross_auth_lite-0.1.0.dist-info/METADATA").decode()
    tops = {name.split("/")[0] for name in names}
    assert tops == {"cross_auth_lite", "cross_auth_lite-0.1.0.dist-info"}, sorted(tops)
    assert "cross_auth_lite-0.1.0.dist-info/licenses/LICENSE" in names
    assert "cross_auth_lite/py.typed" in names
    assert "cross_auth_lite/demo/__main__.py" in names
    assert not [name for name in names if name.startswith(("bench/", "tests/", "tools/"))]
    assert "License-Expression: MIT" in metadata
    assert "Home-page" not in metadata
    assert "Project-URL" not in metadata


def test_the_sdist_holds_what_a_build_needs_and_nothing_else(
    distributions: dict[str, Path],
) -> None:
    with tarfile.open(distributions["sdist"]) as sdist:
        names = [name.removeprefix("cross_auth_lite-0.1.0/") for name in sdist.getnames()]
    outside = {name for name in names if not name.startswith("cross_auth_lite/")}
    assert outside == {".gitignore", "LICENSE", "PKG-INFO", "README.md", "pyproject.toml"}
    assert "cross_auth_lite/py.typed" in names


INSTALLED_TEST = """
from pathlib import Path

import cross_auth_lite as lite


def test_lite_open_from_the_installed_wheel(tmp_path):
    assert Path(lite.__file__).is_relative_to(Path({venv!r}))
    with lite.open(tmp_path / "auth") as store:
        lite.admin.create_user(store, "ada@example.com")
    assert (tmp_path / "auth" / "accounts.sqlite3").is_file()
"""


def test_the_installed_wheel_runs_the_cli_lite_open_and_the_readme_test(
    installed: Path, tmp_path: Path
) -> None:
    """``cross-auth-lite --help``, and the README's test copied as printed into an app's tests."""
    document = Sybil([CodeBlockParser("python")]).parse(ROOT / "README.md")
    (block,) = [str(e.parsed) for e in document.examples() if "def test_" in str(e.parsed)]
    (tmp_path / "test_readme_copy.py").write_text(block)
    (tmp_path / "test_installed.py").write_text(INSTALLED_TEST.format(venv=str(installed.parent)))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    # Both at once: each spends most of its time importing.
    cli = subprocess.Popen(
        [str(installed / "cross-auth-lite"), "--help"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    tests = _run(
        [str(installed / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider"], tmp_path
    )
    out, err = cli.communicate(timeout=TIMEOUT)
    assert cli.returncode == 0, err
    assert out.startswith("usage: cross-auth-lite")
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "2 passed" in tests.stdout, tests.stdout

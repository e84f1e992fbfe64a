"""The documentation covers what the package offers: every public name, every command.

The examples themselves run through Sybil (the root ``conftest.py``); ``make
docs`` builds the site with ``--strict``.
"""

from __future__ import annotations

import re
import sys
import tomllib
import warnings
from pathlib import Path

import pytest

import cross_auth_lite as lite
from cross_auth_lite import errors
from cross_auth_lite.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
API = (ROOT / "docs" / "api.md").read_text()
sys.path.insert(0, str(ROOT / "tools"))
import docs_hooks  # noqa: E402


def test_the_api_reference_lists_every_public_name_and_every_exception() -> None:
    documented = set(re.findall(r"^::: cross_auth_lite\.([\w.]+)$", API, re.M))
    public = set(lite.__all__) | {f"admin.{name}" for name in lite.admin.__all__}
    assert public - documented == set()
    assert set(errors.__all__) <= documented
    assert documented - public == {"testing", "pytest_plugin", "dev"}


def test_every_public_callable_has_a_docstring() -> None:
    for namespace in (lite, lite.admin):
        for name in namespace.__all__:
            value = getattr(namespace, name)
            if callable(value):
                assert (value.__doc__ or "").strip(), name


def test_the_cli_reference_has_every_command_of_the_parser() -> None:
    reference = docs_hooks.cli_reference()
    parser = build_parser()
    titles = [" ".join(("cross-auth-lite", *words)) for words, _ in docs_hooks._commands(parser)]
    assert len(titles) > 15
    for title in titles:
        assert f"### `{title}`" in reference
    assert docs_hooks.MARKER in (ROOT / "docs" / "cli.md").read_text()


def test_the_readme_links_only_to_absolute_urls_and_its_own_headings() -> None:
    readme = (ROOT / "README.md").read_text()
    headings = {
        re.sub(r"[^\w\- ]", "", line[3:].strip().lower()).replace(" ", "-")
        for line in readme.splitlines()
        if line.startswith("## ")
    }
    for target in re.findall(r"\]\(([^)]+)\)", readme):
        if target.startswith("#"):
            assert target[1:] in headings, target
        else:
            assert target.startswith("https://"), target
    for path in re.findall(r"`((?:docs/[\w/.-]+\.md)|CHANGELOG\.md|LICENSE)`", readme):
        assert (ROOT / path).is_file(), path


def test_a_documents_examples_run_in_order_on_one_xdist_worker(pytester: pytest.Pytester) -> None:
    # Each block needs the one before it; the skip marker applies to the block after it.
    blocks = ["```python\nsteps = [0]\n```"]
    blocks += [
        f"```python\nassert steps == list(range({n}))\nsteps.append({n})\n```" for n in range(1, 8)
    ]
    blocks.insert(3, '<!-- skip: next "never runs" -->\n```python\nraise AssertionError\n```')
    pytester.makefile(".md", guide="\n\n".join(blocks))
    pytester.makeconftest(
        "from sybil import Sybil\n"
        "from sybil.parsers.markdown import PythonCodeBlockParser, SkipParser\n"
        "pytest_collect_file = Sybil(\n"
        "    parsers=[PythonCodeBlockParser(), SkipParser()], patterns=['*.md']\n"
        ").pytest()\n"
    )
    settings = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]
    pytester.makeini(f"[pytest]\naddopts = {settings['ini_options']['addopts']}\n")
    result = pytester.runpytest_subprocess("--numprocesses=2", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=9, skipped=1)  # the marker is an example too


def _documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def test_every_pip_install_of_a_local_path_works_as_printed_in_the_clone() -> None:
    """``pip install PATH[extras]`` lines name a path that exists at the clone's root.

    pip takes a word that is no existing path for a requirement, and refuses
    ``./cross-auth-lite[demo]`` as invalid; a wheel is the one ``make dist`` builds.
    """
    extras = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    )
    wheel = f"dist/cross_auth_lite-{lite.__version__}-py3-none-any.whl"
    found = 0
    for document in _documents():
        for words in re.findall(r"pip install ([^\n#`&]+)", document.read_text()):
            for word in words.split():
                target = word.strip("'\"")
                path, _, named = target.partition("[")
                if not (path.startswith((".", "/")) or "/" in path or path.endswith(".whl")):
                    continue  # a requirement (from PyPI), not a path
                found += 1
                where = f"{document.relative_to(ROOT)}: pip install {word}"
                assert path == wheel or (ROOT / path).exists(), where
                assert set(filter(None, named.rstrip("]").split(","))) <= extras, where
    assert found >= 3


#: American spellings where the project writes British ones (-ise, -our, -lled).
AMERICAN = re.compile(
    r"(?i)\b(?!(?:size|prize|seize|capsize|oversize|resize)[sd]?\b|(?:un)?authoriz|sizing)"
    r"[A-Za-z]+iz(?:e|es|ed|ing|ation|ations)\b"
    r"|\b[A-Za-z]*(?:behavior|honor|favor|neighbor|analyz)[a-z]*\b"
    r"|\b(?:cancel|label|model|travel|signal)(?:ed|ing)\b"
)


def _python_text(path: Path) -> str:
    """The string literals (docstrings, messages, help) of the module at ``path``."""
    import ast

    tree = ast.parse(path.read_text())
    return "\n".join(
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    )


def test_user_facing_text_uses_one_spelling_british() -> None:
    texts = {str(document.relative_to(ROOT)): document.read_text() for document in _documents()}
    texts["CHANGELOG.md"] = (ROOT / "CHANGELOG.md").read_text()
    texts["cli reference"] = docs_hooks.cli_reference()
    for path in [
        *sorted((ROOT / "cross_auth_lite").rglob("*.py")),
        *(ROOT / "examples").glob("*.py"),
    ]:
        texts[str(path.relative_to(ROOT))] = _python_text(path)
    found = {
        where: sorted({match.group() for match in AMERICAN.finditer(text)})
        for where, text in texts.items()
    }
    assert {where: words for where, words in found.items() if words} == {}


def test_the_testing_guide_s_filters_silence_the_warnings_it_names(
    pytester: pytest.Pytester,
) -> None:
    guide = (ROOT / "docs" / "guides" / "testing.md").read_text()
    (app_tests,) = [
        block
        for block in re.findall(r"```python\n(.*?)```", guide, re.S)
        if "def test_profile" in block
    ]
    (config,) = re.findall(r"```toml\n(.*?)```", guide, re.S)
    pytester.makepyfile(test_app=app_tests)

    named = re.compile(r"'crypt' is deprecated|Using `?httpx`? with `?starlette\.testclient")
    noisy = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    noisy.assert_outcomes(passed=2)
    if not named.search(noisy.stdout.str()):
        pytest.skip("these versions of passlib and Starlette warn about nothing")

    pytester.makefile(".toml", pyproject=config)
    quiet = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    quiet.assert_outcomes(passed=2)
    # Only those two: older releases of other packages may add warnings of their own.
    assert not named.search(quiet.stdout.str()), quiet.stdout.str()


# Logger names, not modules: documented in docs/logging.md and kept as they were.
LOGGER_NAMES = {"cross_auth_lite.secondary"}


def _resolves(dotted: str) -> bool:
    """Whether ``dotted`` names a module of the package, or something in one."""
    parts = dotted.split(".")
    with warnings.catch_warnings():  # a deprecated name still exists
        warnings.simplefilter("ignore", DeprecationWarning)
        return _resolves_quietly(parts)


def _resolves_quietly(parts: list[str]) -> bool:
    import importlib

    for cut in range(len(parts), 0, -1):
        try:
            target: object = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            if not hasattr(target, name):
                return False
            target = getattr(target, name)
        return True
    return False


def test_every_dotted_name_the_docs_and_docstrings_give_exists() -> None:
    sources = [ROOT / "README.md", *(ROOT / "docs").rglob("*.md")]
    sources += sorted((ROOT / "cross_auth_lite").rglob("*.py"))
    missing = set()
    for path in sources:
        for dotted in re.findall(r"\bcross_auth_lite(?:\.[A-Za-z_]\w*)+", path.read_text()):
            dotted = dotted.rstrip(".")
            if dotted not in LOGGER_NAMES and not _resolves(dotted):
                missing.add(f"{path.relative_to(ROOT)}: {dotted}")
    assert not missing, sorted(missing)


def test_every_file_a_package_docstring_names_is_in_the_package() -> None:
    for init in sorted((ROOT / "cross_auth_lite").rglob("__init__.py")):
        package = init.parent
        text = init.read_text()
        docstring = text.split('"""')[1] if text.startswith('"""') else ""
        for name in re.findall(r"``(\w+\.py)``", docstring):
            assert list(package.rglob(name)), f"{init.relative_to(ROOT)} names {name}"


def test_the_dotted_name_check_tells_a_missing_name() -> None:
    assert _resolves("cross_auth_lite.admin.rotate_tokens")
    assert _resolves("cross_auth_lite.demo.access_log.install")
    assert not _resolves("cross_auth_lite.store.token_keys.rotate_tokens")
    assert not _resolves("cross_auth_lite.housekeeping.thread")

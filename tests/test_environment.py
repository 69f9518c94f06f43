"""The pinned development set is written twice (pyproject.toml for pip, environment.yml for conda)."""

import tomllib

import yaml

from tools.chapters import ROOT


def test_environment_yml_mirrors_the_pinned_dev_extra():
    pinned = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["dev"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    assert sorted(p for p in pip if p != "-e .") == sorted(pinned)
    assert "-e ." in pip


def test_the_library_never_pins_torch():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert not any("==" in d for d in deps), "the library's own dependencies must stay loose (Colab)"

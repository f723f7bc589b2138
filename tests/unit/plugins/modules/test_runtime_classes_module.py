# -*- coding: utf-8 -*-
"""runtime_classes through main(): the kustomize directory written, a re-run unchanged, check mode writes nothing,
and bad classes are refused in one failure with nothing written."""
import json

import pytest
import yaml
from kubelayer_compat import patch_module_args

from ansible_collections.kubelayer.runtime.plugins.modules import runtime_classes

pytestmark = pytest.mark.slow  # loads the Kubernetes schemas

CLASSES = [{"name": "runc", "handler": "runc"}, {"name": "crun", "handler": "crun"},
           {"name": "kata-qemu", "handler": "kata-qemu", "overhead": {"cpu": "250m", "memory": "160Mi"}},
           {"name": "crun", "handler": "crun"}]


def run(capsys, **args):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            runtime_classes.main()
    return json.loads(capsys.readouterr().out)


def test_render_then_unchanged(capsys, tmp_path):
    dest = tmp_path / "rc"
    first = run(capsys, classes=CLASSES, dest=str(dest))
    assert first["changed"] is True
    objects = list(yaml.safe_load_all((dest / "runtime-classes.yaml").read_text()))
    names = [(o["metadata"]["name"], o["handler"]) for o in objects]
    assert names == [("runc", "runc"), ("crun", "crun"), ("kata-qemu", "kata-qemu")]
    assert objects[2]["overhead"] == {"podFixed": {"cpu": "250m", "memory": "160Mi"}}
    assert yaml.safe_load((dest / "kustomization.yaml").read_text())["resources"] == ["runtime-classes.yaml"]
    assert run(capsys, classes=CLASSES, dest=str(dest))["changed"] is False


def test_check_mode_writes_nothing(capsys, tmp_path):
    dest = tmp_path / "rc"
    out = run(capsys, classes=CLASSES[:1], dest=str(dest), _ansible_check_mode=True)
    assert out["changed"] is True and not dest.exists()


def test_bad_and_conflicting_classes_are_one_failure(capsys, tmp_path):
    dest = tmp_path / "rc"
    out = run(capsys, classes=[{"name": "crun", "handler": "crun"}, {"name": "crun", "handler": "runc"},
                               {"name": "x", "handler": "y", "overhead": {"cpu": "lots"}}], dest=str(dest))
    assert out["failed"] is True
    assert [p.split(":")[0] for p in out["problems"]] == ["classes[1]", "classes[2].overhead.cpu"]
    assert not dest.exists()

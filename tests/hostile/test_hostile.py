"""Every hostile case through the real module: no traceback, one refusal naming the option, no file changed."""

import json

import pytest

from conftest import CASES
import hostile


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_refused_cleanly(results, case):
    got = results.get(case.id)
    assert got is not None, "%s did not run (see tests/output/hostile/)" % case.id
    result = got["result"]
    shown = json.dumps(dict((k, result.get(k)) for k in ("msg", "problems", "exception", "module_stderr")))[:2000]
    assert not hostile.traceback_in(result), "%s (%s): a traceback, not an answer: %s" % (case.id, case.cls, shown)
    assert result.get("failed") is True, "%s (%s): the module accepted %r: %s" % (case.id, case.cls, case.args, shown)
    assert case.option in str(result.get("msg", "")), "%s: the message does not name %s: %s" % (
        case.id, case.option, shown)
    if case.shape:
        problems = result.get("problems")
        assert isinstance(problems, list) and problems, "%s: no problems list: %s" % (case.id, shown)
        assert any(p.startswith(case.option) for p in problems), "%s: no problem starts with %s: %s" % (
            case.id, case.option, shown)
    assert got["diffs"] == [], "%s: files changed under the managed roots: %s" % (case.id, got["diffs"][:5])


def test_playbook_carries_every_argument_exactly():
    """The harness itself: ansible-core's YAML loader reads back every case's arguments exactly as written (no
    ``-0`` turned into 0, no ``""`` into null), so a case tests the value it names."""
    from ansible.parsing.yaml.loader import AnsibleLoader
    import yaml
    text = hostile.playbook(CASES, "localhost", "python3", "snap.py", "state.json", ["/x"])
    tasks = yaml.load(text, Loader=AnsibleLoader)[0]["tasks"]
    sent = [t for t in tasks if t["name"].startswith("case ")]
    assert len(sent) == len(CASES)
    for case, task in zip(CASES, sent):
        assert task["kubelayer.runtime." + case.module] == case.args, case.id

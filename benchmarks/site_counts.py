# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Count executed tasks and node module executions per host and role from ansible.posix.json output.

Input is what ``ANSIBLE_STDOUT_CALLBACK=ansible.posix.json ansible-playbook ...`` prints: plays, each with
tasks, each with ``task.path`` (``.../roles/<role>/tasks/x.yml:12``) and per-host results carrying
``action`` and the ``skipped``/``failed`` flags the callback adds.

- executed task: a host result that is not skipped (a loop counts once; a loop whose items were all
  skipped is skipped);
- node module execution: an executed task whose action runs a module on the node; a loop counts each
  executed item. Controller-only actions (``CONTROLLER_ACTIONS``) and tasks delegated to localhost are
  counted separately as ``controller``.
"""

from __future__ import annotations

import json
import re

PLAY_LEVEL = "(play)"

CONTROLLER_ACTIONS = frozenset((
    "debug", "set_fact", "assert", "fail", "include_tasks", "import_tasks", "include_role", "import_role",
    "include_vars", "meta", "validate_argument_spec", "add_host", "group_by", "set_stats", "pause",
    "import_playbook", "include",
))

_ROLE_PATH = re.compile(r"/roles/([^/]+)/(?:tasks|handlers)/")
# role tasks are named "<role> : <name>" (collection roles "<ns>.<collection>.<role> : <name>"); the arg spec
# validation Ansible adds to a role carries the play's path, so the name is what ties it to its role
_ROLE_NAME = re.compile(r"^(?:[\w]+\.[\w]+\.)?([\w-]+) : ")
_LOCAL = frozenset(("localhost", "127.0.0.1", "::1"))


def load_callback_json(text):
    """The JSON document of the callback's stdout (anything printed before it is ignored)."""
    start = text.find("{\n")
    if start < 0:
        start = text.find("{")
    if start < 0:
        raise ValueError("no JSON object in the output")
    return json.loads(text[start:])


def short_action(action):
    action = action or ""
    for prefix in ("ansible.builtin.", "ansible.legacy."):
        if action.startswith(prefix):
            return action[len(prefix):]
    return action


def role_of(path, name=None):
    match = _ROLE_PATH.search(path or "") or _ROLE_NAME.search(name or "")
    return match.group(1) if match else PLAY_LEVEL


def role_order(key):
    role = key.split("|", 1)[1]
    return (role != PLAY_LEVEL, role)


def _delegated_to_local(result):
    delegated = result.get("_ansible_delegated_vars") or {}
    for key in ("ansible_delegated_host", "ansible_host", "ansible_connection"):
        value = delegated.get(key)
        if value in _LOCAL or (key == "ansible_connection" and value == "local"):
            return True
    return False


def classify(action, result):
    """(executed, node_modules, controller) for one host result of one task."""
    if result.get("skipped"):
        return 0, 0, 0
    items = result.get("results")
    if isinstance(items, list) and items and all(isinstance(i, dict) for i in items):
        executed_items = [i for i in items if not i.get("skipped")]
        if not executed_items:
            return 0, 0, 0
        count = len(executed_items)
    else:
        count = 1
    if short_action(action) in CONTROLLER_ACTIONS or _delegated_to_local(result):
        return 1, 0, count
    return 1, count, 0


def count(data):
    """Totals per host, per host and role, plus failures and changed tasks."""
    per_host = {}
    per_host_role = {}
    failures = []
    failed_hosts = set()
    changed_tasks = []
    changed_total = 0
    for play in data.get("plays", []):
        for entry in play.get("tasks", []):
            task = entry.get("task", {})
            role = role_of(task.get("path"), task.get("name"))
            for host, result in (entry.get("hosts") or {}).items():
                action = result.get("action", "")
                executed, modules, controller = classify(action, result)
                key = "%s|%s" % (host, role)
                for bucket in (per_host.setdefault(host, _zero()), per_host_role.setdefault(key, _zero())):
                    bucket["tasks"] += executed
                    bucket["modules"] += modules
                    bucket["controller"] += controller
                    bucket["changed"] += 1 if (executed and result.get("changed")) else 0
                if executed and result.get("changed"):
                    changed_total += 1
                    changed_tasks.append("%s: %s" % (host, task.get("name")))
                if result.get("failed") or result.get("unreachable"):
                    failed_hosts.add(host)
                    failures.append("%s: %s: %s" % (host, task.get("name"), _reason(result)))
    stats = data.get("stats", {})
    for host, s in stats.items():
        if s.get("failures") or s.get("unreachable"):
            failed_hosts.add(host)
    return {
        "per_host": per_host,
        "per_host_role": per_host_role,
        "failures": failures,
        "failed_hosts": sorted(failed_hosts),
        "changed_tasks": changed_tasks,
        "changed_total": changed_total,
        "stats": stats,
    }


def _zero():
    return {"tasks": 0, "modules": 0, "controller": 0, "changed": 0}


def _reason(result):
    msg = result.get("msg") or result.get("stderr") or result.get("reason") or ""
    if not isinstance(msg, str):
        msg = json.dumps(msg)
    return msg.strip().splitlines()[0][:300] if msg.strip() else "(no message)"

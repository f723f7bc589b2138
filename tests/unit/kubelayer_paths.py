"""Paths the unit tests share: the checkout, the upstream release files beside it, the collections path.

`make unit` runs from the checkout (upstream files at ../shared/upstream, the collection linked under
.venv/collections); `ansible-test units` runs from a copy laid out as .../ansible_collections/kubelayer/runtime, next
to which tests/utils/ansible-test.sh links ../shared as .../ansible_collections/kubelayer/shared.
"""
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def upstream_dir():
    candidate = os.path.join(os.path.dirname(REPO), "shared", "upstream")
    if not os.path.isdir(candidate):
        raise AssertionError("upstream release files not found at %s (shared/ beside the checkout)" % candidate)
    return candidate


def collections_path():
    parent = os.path.dirname(os.path.dirname(REPO))
    if os.path.basename(parent) == "ansible_collections":
        return os.path.dirname(parent)
    return os.path.join(REPO, ".venv", "collections")


def _shebang_python(path):
    try:
        with open(path) as handle:
            first = handle.readline()
    except (IOError, OSError, UnicodeDecodeError):
        return None
    words = first[2:].strip().split() if first.startswith("#!") else []
    return words[0] if words and os.path.isabs(words[0]) and os.path.basename(words[0]).startswith("python") else None


def clean_env():
    """The environment for a child ansible-playbook: ansible-test units puts a target-only ansible on PYTHONPATH."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    return env


def controller():
    """(python, ansible-playbook command) of a full ansible-core install.

    The first ``ansible-playbook`` on PATH whose interpreter imports ansible.cli without ansible-test's
    PYTHONPATH (ansible-test units puts a target-only shim first on PATH), else this interpreter's ansible.
    """
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        candidate = os.path.join(directory, "ansible-playbook")
        python = _shebang_python(candidate) if os.path.isfile(candidate) else None
        if python and subprocess.run([python, "-c", "import ansible.cli.playbook"], env=clean_env(), check=False,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0:
            return python, [candidate]
    return sys.executable, [sys.executable, "-m", "ansible.cli.playbook"]

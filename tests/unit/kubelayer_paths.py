"""Paths the unit tests share: the checkout, the pinned upstream release files, the collections path.

`make unit` runs from the checkout (the collection linked under .venv/collections); `ansible-test units` runs from a
copy laid out as .../ansible_collections/kubelayer/runtime, next to which tests/utils/ansible-test.sh links ../shared
as .../ansible_collections/kubelayer/shared.

The upstream files come the way a user gets them: KUBELAYER_UPSTREAM_DIR when set (the Makefile sets it to
../shared/upstream when that exists), else ../shared/upstream beside the checkout, else the collection's own
upstream_files module downloads the pinned files (or fetches them from KUBELAYER_UPSTREAM_MIRROR_URL) into its
cache, checking every sha256.
"""
import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_FETCHED = []


def upstream_dir():
    for candidate in (os.environ.get("KUBELAYER_UPSTREAM_DIR"), os.path.join(os.path.dirname(REPO), "shared", "upstream")):
        if candidate and os.path.isdir(candidate):
            return candidate
    if not _FETCHED:
        _FETCHED.append(fetch_upstream())
    return _FETCHED[0]


def fetch_upstream():
    """Run kubelayer.runtime.upstream_files for every catalog group on this controller; return its cache_dir."""
    python, playbook = controller()
    adhoc = [python, "-m", "ansible.cli.adhoc"] if playbook[0] == sys.executable else \
        [os.path.join(os.path.dirname(playbook[0]), "ansible")]
    args = json.dumps({"files": ["canal", "snapshot_crds", "snapshot_controller", "local_path"]})
    env = dict(clean_env(), ANSIBLE_COLLECTIONS_PATH=collections_path())
    proc = subprocess.run(adhoc + ["localhost", "-c", "local", "-e", "ansible_python_interpreter=%s" % python,
                                   "-m", "kubelayer.runtime.upstream_files", "-a", args, "-o"],
                          env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise AssertionError("the pinned upstream release files could not be fetched:\n%s%s" % (proc.stdout, proc.stderr))
    result = json.loads(proc.stdout[proc.stdout.index("{"):])
    return result["cache_dir"]


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

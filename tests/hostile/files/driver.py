"""Hostile-input suite, node side: run many cases through the real modules in one ``podman exec``.

    driver.py CASES_JSON BUNDLES_DIR ROOTS_CSV

BUNDLES_DIR/<module>/AnsiballZ_<module>.py is the exact payload ansible-playbook sent for that module (kept with
ANSIBLE_KEEP_REMOTE_FILES and exploded once). For every case: run its setup, list the roots, put the case's
arguments into the payload's args file and run the payload (``execute``) with the scratch directory as working
directory, list the roots again. Prints ``[{id, rc, result, stderr, diffs}]`` as JSON.
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from snap import listing  # noqa: E402  pylint: disable=wrong-import-position


def changes(before, after):
    return [{"path": p, "before": before.get(p), "after": after.get(p)}
            for p in sorted(set(before) | set(after)) if before.get(p) != after.get(p)]


def run_case(case, bundles, roots):
    setup = subprocess.run(["sh", "-ec", case["setup"]], capture_output=True, text=True, check=False)
    if setup.returncode != 0:
        return {"id": case["id"], "rc": None, "result": {}, "stderr": "setup failed: " + setup.stderr, "diffs": None}
    bundle = os.path.join(bundles, case["module"])
    args_path = os.path.join(bundle, "debug_dir", "args")
    with open(args_path + ".orig") as handle:
        params = json.load(handle)
    # the internal arguments of the captured run, except its (removed) temporary directory
    keep = dict((k, v) for k, v in params["ANSIBLE_MODULE_ARGS"].items()
                if k.startswith("_ansible_") and k != "_ansible_tmpdir")
    params["ANSIBLE_MODULE_ARGS"] = dict(case["args"], **keep)
    with open(args_path, "w") as handle:
        json.dump(params, handle)
    before = listing(roots)
    proc = subprocess.run([sys.executable, os.path.join(bundle, "AnsiballZ_%s.py" % case["module"]), "execute"],
                          capture_output=True, text=True, cwd=case["cwd"], timeout=300, check=False)
    after = listing(roots)
    try:
        result = json.loads(proc.stdout)
    except ValueError:
        result = {"module_stdout": proc.stdout}
    return {"id": case["id"], "rc": proc.returncode, "result": result, "stderr": proc.stderr[-4000:],
            "diffs": changes(before, after)}


def main():
    with open(sys.argv[1]) as handle:
        cases = json.load(handle)
    bundles, roots = sys.argv[2], sys.argv[3].split(",")
    print(json.dumps([run_case(case, bundles, roots) for case in cases]))


if __name__ == "__main__":
    main()

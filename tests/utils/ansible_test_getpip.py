"""Offline stand-in for the get-pip bootstrap script ansible-test downloads.

ansible-test creates every virtual environment with ``python -m venv --without-pip`` and then runs a
``get_pip_<version>.py`` that it downloads from ci-files.testing.ansible.com, a host this project's machines
cannot reach. It first looks in ``~/.ansible/test/cache/``; ``install`` writes this same file there under the
names ansible-test asks for. Run as the bootstrap script, it installs pip with ``ensurepip`` in a subprocess
(in-process ensurepip would drop /etc/pip.conf settings) and then upgrades it from the package index with the
arguments ansible-test passed.
"""
import os
import shutil
import subprocess
import sys

# pip versions that ansible-core 2.18-2.21 bootstrap
PIP_VERSIONS = ("24.2", "25.2", "25.3")
DROP = {"--no-setuptools", "--no-wheel", "--disable-pip-version-check"}


def install():
    cache = os.path.join(os.path.expanduser("~"), ".ansible", "test", "cache")
    os.makedirs(cache, exist_ok=True)
    for version in PIP_VERSIONS:
        target = os.path.join(cache, "get_pip_%s.py" % version.replace(".", "_"))
        shutil.copyfile(os.path.abspath(__file__), target)
    print("ansible-test get-pip stand-in installed in %s" % cache)


def bootstrap(args):
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])
    wanted = [a for a in args if a not in DROP]
    if wanted:
        subprocess.check_call([sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "--upgrade"] + wanted)


if __name__ == "__main__":
    if sys.argv[1:] == ["install"]:
        install()
    else:
        bootstrap(sys.argv[1:])

#!/usr/bin/env bash
# Run ansible-test sanity on a copy of this checkout laid out as ansible_collections/kubelayer/runtime,
# the only layout ansible-test accepts. The copy holds what git tracks plus untracked, non-ignored files.
# usage: tests/utils/ansible-test.sh sanity [extra ansible-test args]
# (The unit tests run once, with pytest from .venv: `make unit`. ansible-test units would run the same files a
# second time in a second virtualenv with a second set of pins; see the README's contributor section.)
set -euo pipefail
command=${1:?usage: ansible-test.sh sanity [args]}
shift
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/kubelayer-ansible-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
dest=$work/ansible_collections/kubelayer/runtime
mkdir -p "$dest"
(cd "$root" && git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
  [ -e "$f" ] && printf '%s\0' "$f"; done | rsync -a --from0 --files-from=- ./ "$dest/")
# the upstream release files (../shared beside the checkout) stay beside the copy too
[ -d "$root/../shared" ] && ln -s "$(cd "$root/.." && pwd)/shared" "$work/ansible_collections/kubelayer/shared"
# ansible-test's managed venvs bootstrap pip from a host this machine cannot reach: use the local stand-in.
python "$root/tests/utils/ansible_test_getpip.py" install >/dev/null
python=$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')
cd "$dest"
case $command in
  sanity)
    ansible-test sanity --venv --python "$python" --color no "$@" ;;
  *) echo "unknown command: $command" >&2; exit 2 ;;
esac

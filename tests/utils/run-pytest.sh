#!/usr/bin/env bash
# Run pytest and refuse the "no tests collected" exit (5): a suite that ran nothing is a failure.
set -uo pipefail
pytest -q -p no:cacheprovider "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests in: $* -- treating as a failure" >&2
  exit 1
fi
exit "$rc"

#!/usr/bin/env bash
# The 3-node demo lab: lab/lab.sh up|down|status. Uses the same create/destroy playbooks as molecule.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export CONTAINERS_CONF=${CONTAINERS_CONF:-$here/containers.conf}
platforms='{"lab_platforms": [
  {"name": "lab-bookworm", "image": "localhost/kubelayer-node:bookworm"},
  {"name": "lab-trixie", "image": "localhost/kubelayer-node:trixie"},
  {"name": "lab-forky", "image": "localhost/kubelayer-node:forky"}]}'
case ${1:-} in
  up) ansible-playbook -i localhost, -c local "$here/../molecule/shared/create.yml" -e "$platforms" \
        -e molecule_scenario=demo >/dev/null
      podman ps --filter name='^lab-' --format '{{.Names}}\t{{.Status}}' ;;
  down) ansible-playbook -i localhost, -c local "$here/../molecule/shared/destroy.yml" -e "$platforms" >/dev/null
      echo "lab removed" ;;
  status) podman ps -a --filter name='^lab-' --format '{{.Names}}\t{{.Image}}\t{{.Status}}' ;;
  *) echo "usage: lab/lab.sh up|down|status" >&2; exit 2 ;;
esac

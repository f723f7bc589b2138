#!/usr/bin/env bash
# docs/kubespray.md's combined playbook with kubespray's REAL source (not the stand-in of the CI test), by hand.
#
#   KUBESPRAY_DIR=~/src/kubespray tests/kubespray/real-kubespray.sh check   # syntax-check + list-tasks, no nodes
#   KUBESPRAY_DIR=~/src/kubespray tests/kubespray/real-kubespray.sh run     # + two lab nodes, a real run
#
# KUBESPRAY_DIR: a kubespray checkout (tested: v2.32, commit 46dbdd3994b3, the commit of ../shared/kubespray-sample).
# It is linked as the collection kubernetes_sigs.kubespray; nothing of it enters this repository. CI has no GitHub,
# so this script is not part of `make test` (tests/collection/test_kubespray_inventory.py runs a stand-in there).
# Needs `make venv-core218` (kubespray's ansible 11.13.0 / ansible-core 2.18, which bundles the collections
# kubespray's galaxy.yml depends on) and, for `run`, the lab images (`make images`).
#
# `run` starts ksreal-cp1 (kube_control_plane, etcd) and ksreal-node1 (kube_node) from the trixie lab image, uses
# kubespray's sample inventory (host lines added, group_vars unchanged; the two settings docs/kubespray.md asks for
# as extra vars) and runs the combined playbook with kubespray's own switch for its downloads, skip_downloads=true,
# since this lab cannot reach GitHub or registry.k8s.io. Extra arguments are passed to ansible-playbook (for example
# --skip-tags or -e). The nodes are removed at the end unless KEEP_NODES=1. Output: $OUT (default /tmp/ksreal).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
mode=${1:-check}; shift || true
: "${KUBESPRAY_DIR:?set KUBESPRAY_DIR to a kubespray checkout}"
[ -f "$KUBESPRAY_DIR/playbooks/cluster.yml" ] || { echo "$KUBESPRAY_DIR: no playbooks/cluster.yml" >&2; exit 2; }
[ -x "$root/.venv-core218/bin/ansible-playbook" ] || { echo "run 'make venv-core218' first" >&2; exit 2; }
sample=${KUBESPRAY_SAMPLE:-$KUBESPRAY_DIR/inventory/sample}
out=${OUT:-/tmp/ksreal}
rm -rf "$out"; mkdir -p "$out/collections/ansible_collections/kubernetes_sigs" "$out/inventory"
ln -sfn "$(cd "$KUBESPRAY_DIR" && pwd)" "$out/collections/ansible_collections/kubernetes_sigs/kubespray"
ln -sfn "$sample/group_vars" "$out/inventory/group_vars"
conn="ansible_connection=containers.podman.podman ansible_python_interpreter=/usr/bin/python3"
sed -e "s/^\[kube_control_plane\]$/[kube_control_plane]\nksreal-cp1 $conn/" \
    -e "s/^\[kube_node\]$/[kube_node]\nksreal-node1 $conn/" "$sample/inventory.ini" > "$out/inventory/inventory.ini"
# the combined playbook exactly as docs/kubespray.md shows it
# shellcheck disable=SC2016
sed -n '/^## The combined playbook/,/^## /p' "$root/docs/kubespray.md" | sed -n '/^```yaml$/,/^```$/p' | sed '1d;$d' \
  > "$out/cluster-with-canal.yml"
export PATH="$root/.venv-core218/bin:$PATH" ANSIBLE_CONFIG="$root/ansible.cfg" ANSIBLE_NOCOLOR=1
export ANSIBLE_COLLECTIONS_PATH="$out/collections:$root/.venv-core218/collections"
export CONTAINERS_CONF="$root/lab/containers.conf"
args=(-i "$out/inventory/inventory.ini" "$out/cluster-with-canal.yml"
      -e kube_network_plugin=cni -e '{"deploy_container_engine": false}'
      -e "canal_manifest_dest=$out/rendered/canal" -e "csi_render_dir=$out/rendered/storage")
ansible --version | head -1
ansible-playbook "${args[@]}" --syntax-check
ansible-playbook "${args[@]}" --list-tasks > "$out/list-tasks.txt"
echo "list-tasks: $(grep -c 'TAGS:' "$out/list-tasks.txt") lines with tags, $(grep -c '^  play #' "$out/list-tasks.txt") plays ($out/list-tasks.txt)"
[ "$mode" = run ] || exit 0

platforms='{"lab_platforms": [{"name": "ksreal-cp1", "image": "localhost/kubelayer-node:trixie"},
                              {"name": "ksreal-node1", "image": "localhost/kubelayer-node:trixie"}]}'
lab() { ansible-playbook -i localhost, -c local "$root/molecule/shared/$1.yml" -e "$platforms" -e molecule_scenario=ksreal >/dev/null; }
exec 9>/tmp/kl-ksreal.lock; flock 9
[ "${KEEP_NODES:-0}" = 1 ] || trap 'lab destroy' EXIT
lab create
rc=0
ansible-playbook "${args[@]}" -e '{"skip_downloads": true}' "$@" > "$out/run.log" 2>&1 || rc=$?
sed -n '/^PLAY RECAP/,$p' "$out/run.log"
echo "exit $rc; the first failed task:"; grep -m1 -B3 -A12 '^fatal:' "$out/run.log" || true
exit $rc

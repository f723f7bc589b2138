"""The cluster manifests the role rendered on the controller (no API server in the lab: render only)."""
import os
import sys

import yaml

sys.path.insert(0, os.path.join(os.environ["MOLECULE_PROJECT_DIRECTORY"], ".venv", "collections"))
from ansible_collections.kubelayer.runtime.plugins.module_utils.k8s.schema import validate_objects  # noqa: E402

# Plain pytest functions (no testinfra `host` fixture): they read the controller's files once, not once per node.


def test_rendered_manifests_on_the_controller():
    out = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "canal-manifests")
    with open(os.path.join(out, "kustomization.yaml")) as f:
        kustomization = yaml.safe_load(f)
    assert kustomization["resources"] == ["00-canal-crds.yaml", "10-canal.yaml"]
    with open(os.path.join(out, "10-canal.yaml")) as f:
        objects = [o for o in yaml.safe_load_all(f) if o]
    config = [o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "canal-config"][0]
    # the kubespray inventory's pod range, and an explicit veth MTU for the 1500-byte podman network over VXLAN
    assert '"Network": "10.233.64.0/18"' in config["data"]["net-conf.json"]
    assert config["data"]["veth_mtu"] == "1450"
    ds = [o for o in objects if o["kind"] == "DaemonSet"][0]
    calico = [c for c in ds["spec"]["template"]["spec"]["containers"] if c["name"] == "calico-node"][0]
    assert {"name": "CALICO_IPV4POOL_CIDR", "value": "10.233.64.0/18"} in calico["env"]


def test_rendered_manifests_pass_schema_validation():
    out = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "canal-manifests")
    objects = []
    for name in ("00-canal-crds.yaml", "10-canal.yaml"):
        with open(os.path.join(out, name)) as f:
            objects.extend(o for o in yaml.safe_load_all(f) if o)
    assert len(objects) == 40
    assert validate_objects(objects) == []

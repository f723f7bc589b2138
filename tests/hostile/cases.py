"""The hostile inputs, one ``Case`` each, for all ten modules (see README.md in this directory).

``@W@`` is the case's scratch directory inside the managed roots (on the node /srv/hostile, on the controller a
temporary directory); its ``setup`` runs right before the listing the case is compared against. Open-ended inputs
(paths, sysctl values, names) are drawn with hypothesis from strategies that only produce hostile values, with a
fixed seed so every run tries the same cases.
"""

import hashlib
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings, strategies as st

from hostile import Case

ROOT = Path(__file__).resolve().parents[2]
UPSTREAM = ROOT.parent / "shared" / "upstream"
CANAL_SRC = UPSTREAM / "calico-v3.32.1" / "canal.yaml"

RO = "mkdir -p @W@/ro && mount -t tmpfs -o ro,size=64k tmpfs @W@/ro\n"
CONTROL = ["\x00", "\r", "\n", "\x0b", "\x1b", "\x7f", u"\u2028", u"\x85"]
_NAME = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=8)


# -- hypothesis: strategies that only produce hostile values ------------------------------------------------
def draw(strategy, count):
    """``count`` distinct examples of ``strategy`` (deterministic: derandomized, no example database)."""
    out = []

    @settings(max_examples=count * 20, derandomize=True, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck), deadline=None)
    @given(strategy)
    def collect(value):
        if value not in out and len(out) < count:
            out.append(value)
    collect()
    return out


def hostile_paths(suffix=""):
    """Absolute-looking paths with a control character, ``//``, ``/./`` or ``/../`` inside, or relative ones."""
    fragment = st.sampled_from(["/./", "//", "/../", "/.."] + CONTROL)
    injected = st.builds(lambda a, f, b: "/" + a + f + b + suffix, _NAME, fragment, _NAME)
    relative = st.builds(lambda a, b: a + "/" + b + suffix, _NAME, _NAME)
    return st.one_of(injected, relative, st.sampled_from(["", "/.", "/", ".", "..", "./x" + suffix]))


def hostile_values():
    """A sysctl value that hides a second line (or a NUL) behind a harmless first part."""
    return st.builds(lambda a, c, b: a + c + b, st.sampled_from(["1", "0", "4096", ""]), st.sampled_from(CONTROL),
                     st.sampled_from(["kernel.core_pattern = |/tmp/x", "", "x"]))


def hostile_names():
    """Kernel module / CNI plugin / interface names that are not names (option-like, paths, control chars)."""
    return st.one_of(
        st.builds(lambda a: "-" + a, _NAME),
        st.builds(lambda a, c, b: a + c + b, _NAME, st.sampled_from(["/", " ", ":"] + CONTROL), _NAME),
        st.sampled_from(["", "..", ".", "../x"]))


# -- node modules ---------------------------------------------------------------------------------------------
def canal_node():
    c = []
    for path in ("/etc/sysctl.d", "/etc"):
        c.append(Case("canal_node", "write error", "sysctl_file", {"sysctl_file": path}))
    c.append(Case("canal_node", "write error", "modules_load_file", {"modules_load_file": "/etc/modules-load.d"}))
    c.append(Case("canal_node", "write error", "sysctl_file", {"sysctl_file": "@W@/ro/x.conf"}, setup=RO))
    c.append(Case("canal_node", "write error", "networkmanager_file",
                  {"networkmanager_file": "@W@/ro/nm.conf", "sysctl_file": "@W@/s.conf"}, setup=RO + "mkdir -p /etc/NetworkManager\n"))
    c.append(Case("canal_node", "half-written", "cni_conf_dir", {"cni_conf_dir": "@W@/conf"}, setup="touch @W@/conf\n"))
    c.append(Case("canal_node", "half-written", "cni_bin_dir", {"cni_bin_dir": "@W@/bin"}, setup="touch @W@/bin\n"))
    c.append(Case("canal_node", "half-written", "udev_rule_file",
                  {"checksum_offload_rule": True, "udev_rule_file": "@W@/udev"}, setup="mkdir @W@/udev\n"))
    c.append(Case("canal_node", "symlink", "sysctl_file", {"sysctl_file": "@W@/x.conf"},
                  setup="ln -s /etc/passwd @W@/x.conf\n"))
    c.append(Case("canal_node", "symlink", "modules_load_file", {"modules_load_file": "@W@/d/m.conf"},
                  setup="mkdir @W@/d && ln -s /etc/hostname @W@/d/m.conf\n"))
    for value in ("1\rkernel.core_pattern = |/tmp/x", "1\x00", "1\nkernel.x = 1", u"1\u2028x"):
        c.append(Case("canal_node", "injection", "extra_sysctls", {"extra_sysctls": {"net.core.somaxconn": value}}))
    for value in draw(hostile_values(), 6):
        c.append(Case("canal_node", "injection", "extra_sysctls", {"extra_sysctls": {"net.core.rmem_max": value}},
                      note="hypothesis"))
    for key in ("net.ipv4.ip_forward\rkernel.x", "../../etc/x", "bad key", "net..x", ""):
        c.append(Case("canal_node", "name grammar", "extra_sysctls", {"extra_sysctls": {key: "1"}}))
    for option in ("sysctl_file", "modules_load_file", "udev_rule_file", "networkmanager_file"):
        for path in ("/.", "", "relative.conf"):
            c.append(Case("canal_node", "path", option, {option: path}))
    for path in draw(hostile_paths(".conf"), 8):
        c.append(Case("canal_node", "path", "sysctl_file", {"sysctl_file": path}, note="hypothesis"))
    for option in ("cni_conf_dir", "cni_bin_dir", "cni_plugin_link_from"):
        c.append(Case("canal_node", "path", option, {option: "usr/lib/cni"}))
        c.append(Case("canal_node", "path", option, {option: "/opt/cni/../../etc"}))
    for name in ("-r", "a/b", "", "br_netfilter\x00"):
        c.append(Case("canal_node", "name grammar", "extra_modules", {"extra_modules": [name]}))
    for name in draw(hostile_names(), 5):
        c.append(Case("canal_node", "name grammar", "extra_modules", {"extra_modules": [name]}, note="hypothesis"))
    for name in ("..", ".", "../x", "-x"):
        c.append(Case("canal_node", "name grammar", "cni_plugins", {"cni_plugins": [name]}))
    c.append(Case("canal_node", "duplicates", "extra_modules", {"extra_modules": ["vxlan", "vxlan"]}))
    c.append(Case("canal_node", "duplicates", "cni_plugins", {"cni_plugins": ["portmap", "portmap"]}))
    c.append(Case("canal_node", "conflict", "sysctl_file",
                  {"sysctl_file": "/etc/sysctl.d/x.conf", "modules_load_file": "/etc/sysctl.d/x.conf"}))
    for port in (0 - 1, 70000, 2 ** 70):
        c.append(Case("canal_node", "number", "vxlan_port", {"vxlan_port": port}))
    c.append(Case("canal_node", "number", "wireguard_port", {"backend": "wireguard", "wireguard_port": 65536}))
    return c


def csi_node():
    c = []

    def lp(**kw):
        return {"drivers": [dict({"name": "local-path"}, **kw)]}
    for path in ("/.", "", "opt/x", "/opt/../etc", "//", "/"):
        c.append(Case("csi_node", "path", "csi_drivers[local-path].path", lp(path=path)))
    # a NUL byte is refused on the controller (the action plugin), named by the module's option path
    c.append(Case("csi_node", "path", "drivers[0].path", lp(path="/opt/x\x00")))
    for path in draw(hostile_paths(), 5):
        c.append(Case("csi_node", "path", "csi_drivers[local-path].path", lp(path=path), note="hypothesis"))
    c.append(Case("csi_node", "path", "csi_drivers[local-path].mode", lp(mode="999")))
    c.append(Case("csi_node", "path", "csi_drivers[local-path].selinux_type", lp(selinux_type="a\nb")))
    for dev in ("dev/sda", "/dev/../etc/passwd", ""):
        c.append(Case("csi_node", "path", "csi_drivers[rook-ceph].osd_devices",
                      {"drivers": [{"name": "rook-ceph", "osd_devices": [dev]}]}))
    c.append(Case("csi_node", "path", "drivers[0].osd_devices[0]",
                  {"drivers": [{"name": "rook-ceph", "osd_devices": ["/dev/sda\x00"]}]}))
    c.append(Case("csi_node", "duplicates", "csi_drivers[rook-ceph].osd_devices",
                  {"drivers": [{"name": "rook-ceph", "osd_devices": ["/dev/zz", "/dev/zz"]}]}))
    c.append(Case("csi_node", "boolean", "csi_drivers[nfs].nfs_v3_locking",
                  {"drivers": [{"name": "nfs", "nfs_v3_locking": "maybe"}]}))
    for value in (2 ** 70, 0, -5, 2 ** 63):
        c.append(Case("csi_node", "number", "aio_max_nr", {"drivers": [{"name": "longhorn"}], "aio_max_nr": value}))
    for option in ("sysctl_file", "modules_load_file", "multipath_conf_file", "initiatorname_file"):
        for path in ("/.", "", "etc/x.conf", "/etc/x\x00.conf"):
            c.append(Case("csi_node", "path", option, {"drivers": [{"name": "nfs"}], option: path}))
    c.append(Case("csi_node", "write error", "sysctl_file", {"drivers": [{"name": "longhorn"}], "sysctl_file": "/etc/sysctl.d"}))
    c.append(Case("csi_node", "write error", "modules_load_file",
                  {"drivers": [{"name": "rook-ceph"}], "modules_load_file": "@W@/ro/m.conf"}, setup=RO))
    c.append(Case("csi_node", "symlink", "modules_load_file",
                  {"drivers": [{"name": "rook-ceph"}], "modules_load_file": "@W@/m.conf"},
                  setup="ln -s /etc/hostname @W@/m.conf\n"))
    c.append(Case("csi_node", "half-written", "csi_drivers[local-path].path",
                  {"drivers": [{"name": "rook-ceph"}, {"name": "local-path", "path": "@W@/file"}],
                   "modules_load_file": "@W@/m.conf"}, setup="touch @W@/file\n"))
    c.append(Case("csi_node", "conflict", "sysctl_file",
                  {"drivers": [{"name": "longhorn"}], "sysctl_file": "/etc/x.conf", "modules_load_file": "/etc/x.conf"}))
    return c


def containerd_registry():
    c = []

    def reg(prefix="docker.io", host="https://mirror.example.com", **kw):
        return dict({"registries": [{"prefix": prefix, "mirrors": [{"host": host}]}]}, **kw)
    for path in ("/.", "", "etc/containerd/certs.d", "/etc/containerd/certs.d\x00", "/etc/containerd/../x", "/"):
        c.append(Case("containerd_registry", "path", "config_path", reg(config_path=path)))
    for path in draw(hostile_paths(), 4):
        c.append(Case("containerd_registry", "path", "config_path", reg(config_path=path), note="hypothesis"))
    for prefix in ("..", "../etc", "a/b", "docker.io\x00", "docker.io\r", ""):
        c.append(Case("containerd_registry", "name grammar", "registries", reg(prefix=prefix)))
    for host in ("https://m.example.com\n[host.x]", "https://m\x00", "https://m.example.com\r"):
        c.append(Case("containerd_registry", "injection", "registries", reg(host=host)))
    c.append(Case("containerd_registry", "write error", "config_path", reg(config_path="@W@/certs"),
                  setup="touch @W@/certs\n"))
    c.append(Case("containerd_registry", "write error", "config_path", reg(config_path="@W@/ro"), setup=RO))
    c.append(Case("containerd_registry", "symlink", "config_path", reg(config_path="@W@/certs"),
                  setup="mkdir -p @W@/certs @W@/elsewhere && ln -s @W@/elsewhere @W@/certs/docker.io\n"))
    c.append(Case("containerd_registry", "symlink", "config_path", reg(config_path="@W@/certs"),
                  setup="mkdir -p @W@/certs/docker.io && ln -s /etc/passwd @W@/certs/docker.io/hosts.toml\n"))
    c.append(Case("containerd_registry", "half-written", "config_path",
                  {"config_path": "@W@/certs", "registries": [
                      {"prefix": "docker.io", "mirrors": [{"host": "https://a.example.com"}]},
                      {"prefix": "quay.io", "mirrors": [{"host": "https://b.example.com"}]}]},
                  setup="mkdir -p @W@/certs && touch @W@/certs/quay.io\n"))
    c.append(Case("containerd_registry", "duplicates", "registries",
                  {"registries": [{"prefix": "docker.io", "mirrors": []}, {"prefix": "docker.io", "mirrors": []}]}))
    return c


def containerd_config():
    c = []
    base = {"containerd_version": "2.1", "validate": False}
    for path in ("/.", "", "etc/containerd/config.toml", "/etc/containerd/config.toml\x00", "/etc/containerd/../x.toml",
                 "/etc", "/"):
        c.append(Case("containerd_config", "path", "path", dict(base, path=path)))
    for path in draw(hostile_paths(".toml"), 4):
        c.append(Case("containerd_config", "path", "path", dict(base, path=path), note="hypothesis"))
    c.append(Case("containerd_config", "crash", "runtimes", dict(base, runtimes={"crun": {"kind": ["runc"]}})))
    c.append(Case("containerd_config", "crash", "runtimes", dict(base, runtimes={"crun": {"runtime_type": ["x"]}})))
    c.append(Case("containerd_config", "name grammar", "runtimes", dict(base, runtimes={"cr\x00un": {}})))
    c.append(Case("containerd_config", "name grammar", "runtimes", dict(base, runtimes={"../x": {}})))
    c.append(Case("containerd_config", "name grammar", "containerd_version", {"containerd_version": "../../../etc"}))
    c.append(Case("containerd_config", "injection", "sandbox_image", dict(base, sandbox_image="pause:3.10\n[x]")))
    c.append(Case("containerd_config", "write error", "path", dict(base, path="@W@/ro/config.toml"), setup=RO))
    c.append(Case("containerd_config", "write error", "path", dict(base, path="@W@/d/config.toml"),
                  setup="touch @W@/d\n"))
    return c


def cri_info():
    c = []
    base = {"required": False}
    for value in (10 ** 10, 0, -1, 2 ** 63):
        c.append(Case("cri_info", "number", "timeout", dict(base, timeout=value)))
    for value in (10 ** 10, -1):
        c.append(Case("cri_info", "number", "wait_ready", dict(base, wait_ready=value)))
    c.append(Case("cri_info", "crash", "crictl_config_path", dict(base, crictl_config_path="@W@/crictl.yaml"),
                  setup="printf '\\377\\376\\000bin' > @W@/crictl.yaml\n"))
    for path in ("etc/crictl.yaml", "/etc/crictl.yaml\x00", "/.", ""):
        c.append(Case("cri_info", "path", "crictl_config_path", dict(base, crictl_config_path=path)))
    for path in ("usr/bin/crictl", "/usr/bin/crictl\x00"):
        c.append(Case("cri_info", "path", "crictl_path", dict(base, crictl_path=path)))
    for endpoint in ("unix:///run/containerd/containerd.sock\x00", "tcp://1.2.3.4:1", "unix://relative.sock"):
        c.append(Case("cri_info", "path", "endpoint", dict(base, endpoint=endpoint)))
    return c


def block_devices():
    c = []
    for dev in ("/dev/sda\x00", "dev/sda", "/dev/../etc/passwd", "/.", "", "/dev//sda", "/dev/sda\r"):
        c.append(Case("block_devices", "path", "devices", {"devices": [dev]}))
    for dev in draw(hostile_paths(), 4):
        c.append(Case("block_devices", "path", "devices", {"devices": [dev]}, note="hypothesis"))
    c.append(Case("block_devices", "duplicates", "devices", {"devices": ["/dev/zz", "/dev/zz"]}))
    return c


def node_network_facts():
    c = []
    for name in ("eth0\x00", "../x", "a b", "x" * 20, "", "a/b", "eth0\r"):
        c.append(Case("node_network_facts", "name grammar", "underlay_interface", {"underlay_interface": name}))
    for name in draw(hostile_names(), 3):
        c.append(Case("node_network_facts", "name grammar", "underlay_interface", {"underlay_interface": name},
                      note="hypothesis"))
    for pattern in ("(", "a\x00", "[z-a]"):
        c.append(Case("node_network_facts", "name grammar", "cni_interface_pattern", {"cni_interface_pattern": pattern}))
    return c


# -- controller modules ---------------------------------------------------------------------------------------
PLAN = {"flannel_net_conf": {"Network": "10.244.0.0/16", "Backend": {"Type": "vxlan"}}, "veth_mtu": 1450,
        "calico_ipv4pool_cidr": "10.244.0.0/16"}


def _canal_checksum():
    return hashlib.sha256(CANAL_SRC.read_bytes()).hexdigest() if CANAL_SRC.exists() else "0" * 64


def canal_manifest():
    c = []

    def base(**kw):
        return dict({"src": str(CANAL_SRC), "checksum": _canal_checksum(), "dest": "@W@/canal", "plan": PLAN,
                     "validate": False}, **kw)
    for dest in ("/.", "", "canal", "@W@/canal\x00", "@W@/../canal", "/"):
        c.append(Case("canal_manifest", "path", "dest", base(dest=dest)))
    for dest in draw(hostile_paths(), 4):
        c.append(Case("canal_manifest", "path", "dest", base(dest=dest), note="hypothesis"))
    c.append(Case("canal_manifest", "write error", "dest", base(), setup="touch @W@/canal\n"))
    c.append(Case("canal_manifest", "write error", "dest", base(dest="@W@/ro/canal"), setup=RO))
    c.append(Case("canal_manifest", "half-written", "dest", base(), setup="mkdir -p @W@/canal/kustomization.yaml\n"))
    c.append(Case("canal_manifest", "symlink", "dest", base(),
                  setup="mkdir -p @W@/canal @W@/outside && ln -s @W@/outside/x @W@/canal/10-canal.yaml\n"))
    c.append(Case("canal_manifest", "symlink", "dest", base(),
                  setup="mkdir -p @W@/canal && ln -s @W@/outside @W@/canal/00-canal-crds.yaml\n"))
    c.append(Case("canal_manifest", "message", "k8s_version", base(validate=True, k8s_version="../../../../etc")))
    c.append(Case("canal_manifest", "message", "k8s_version", base(validate=True, k8s_version="1.34.0\x00")))
    c.append(Case("canal_manifest", "injection", "canal_iface", base(canal_iface="eth0\r")))
    c.append(Case("canal_manifest", "injection", "flannel_extra_args", base(flannel_extra_args=["--x\n--y"])))
    c.append(Case("canal_manifest", "name grammar", "checksum", base(checksum="abc")))
    for src in ("canal.yaml", "/x\x00"):
        c.append(Case("canal_manifest", "path", "src", base(src=src, checksum=None)))
    c.append(Case("canal_manifest", "number", "timeout", base(timeout=2 ** 70)))
    return c


def csi_plan():
    c = []

    def base(**kw):
        return dict({"drivers": [{"name": "local-path"}], "upstream_dir": str(UPSTREAM), "validate": False,
                     "render_dir": "@W@/render"}, **kw)
    for path in ("/.", "", "render", "@W@/render\x00", "@W@/../render", "/"):
        c.append(Case("csi_plan", "path", "render_dir", base(render_dir=path)))
    for path in draw(hostile_paths(), 4):
        c.append(Case("csi_plan", "path", "render_dir", base(render_dir=path), note="hypothesis"))
    for path in ("upstream", "/x\x00"):
        c.append(Case("csi_plan", "path", "upstream_dir", base(upstream_dir=path)))
    c.append(Case("csi_plan", "write error", "render_dir", base(), setup="touch @W@/render\n"))
    c.append(Case("csi_plan", "write error", "render_dir", base(render_dir="@W@/ro/render"), setup=RO))
    c.append(Case("csi_plan", "half-written", "render_dir", base(), setup="mkdir -p @W@/render/.csi_plan-files.json\n"))
    c.append(Case("csi_plan", "symlink", "render_dir", base(),
                  setup="mkdir -p @W@/render @W@/outside && ln -s @W@/outside @W@/render/03-local-path-provisioner\n"))
    c.append(Case("csi_plan", "symlink", "render_dir", base(),
                  setup="mkdir -p @W@/render && ln -s @W@/outside-file @W@/render/README.md\n"))
    c.append(Case("csi_plan", "message", "kubernetes_version", base(validate=True, kubernetes_version="../../../../etc")))
    c.append(Case("csi_plan", "message", "kubernetes_version", base(kubernetes_version="1.34\x00")))
    c.append(Case("csi_plan", "boolean", "snapshot", base(snapshot="yes please")))
    c.append(Case("csi_plan", "duplicates", "drivers", base(drivers=[{"name": "local-path"}, {"name": "local-path"}])))
    c.append(Case("csi_plan", "path", "drivers", base(drivers=[{"name": "local-path", "path": "/."}])))
    c.append(Case("csi_plan", "path", "drivers", base(drivers=[{"name": "local-path", "path": "rel"}])))
    c.append(Case("csi_plan", "name grammar", "drivers", base(drivers=[{"name": "../x"}])))
    return c


def canal_plan():
    c = []
    node = {"name": "n1", "interfaces": [], "routes": [], "mtu": 1500}

    def base(**kw):
        return dict({"nodes": [node], "pod_cidrs": ["10.244.0.0/16"], "service_cidrs": ["10.96.0.0/12"]}, **kw)
    for value in ("10.244.0.0/16\x00", "../x", ["10.244.0.0/16\r"], [{"a": 1}]):
        c.append(Case("canal_plan", "injection", "pod_cidrs", base(pod_cidrs=value)))
    for value in (2 ** 70, -1, "24\x00"):
        c.append(Case("canal_plan", "number", "node_prefix", base(node_prefix=value)))
    for value in (2 ** 70, -1):
        c.append(Case("canal_plan", "number", "max_pods", base(max_pods=value)))
        c.append(Case("canal_plan", "number", "expected_nodes", base(expected_nodes=value)))
    c.append(Case("canal_plan", "name grammar", "backend", base(backend="vxlan\r")))
    c.append(Case("canal_plan", "duplicates", "nodes", base(nodes=[node, node])))
    c.append(Case("canal_plan", "injection", "reserved", base(reserved=["10.0.0.0/8\x00"])))
    return c


def all_cases():
    cases = []
    for build in (canal_node, csi_node, containerd_registry, containerd_config, cri_info, block_devices,
                  node_network_facts, canal_manifest, csi_plan, canal_plan):
        built = build()
        for index, case in enumerate(built):
            case.id = "%s-%03d" % (case.module, index + 1)
        cases.extend(built)
    return cases


CONTROLLER_MODULES = ("canal_manifest", "csi_plan", "canal_plan")

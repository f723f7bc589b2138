"""Write a tiny OCI image layout tarball from local files (no registry, no tools but python3).

usage: oci_image.py --name localhost/kubelayer/busybox:1 --out /root/busybox.oci.tar \
           --file /bin/busybox:bin/busybox --link bin/sh=busybox --cmd /bin/busybox,sleep,infinity

The archive holds oci-layout, index.json (annotated with the image name for `ctr images import`) and
blobs/sha256/ with one uncompressed layer, the image config and the manifest.
"""
import argparse
import hashlib
import io
import json
import os
import tarfile
import time

EPOCH = 0  # reproducible: same inputs, same digests


def _add_bytes(tar, name, data, mode=0o644):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    info.mtime = EPOCH
    tar.addfile(info, io.BytesIO(data))


def build_layer(files, links):
    """An uncompressed layer tar: files is [(src, dest)], links is [(dest, target)]."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        dirs = set()
        for dest in [pair[1] for pair in files] + [pair[0] for pair in links]:
            parts = dest.strip("/").split("/")[:-1]
            for i in range(1, len(parts) + 1):
                dirs.add("/".join(parts[:i]))
        for directory in sorted(dirs):
            info = tarfile.TarInfo(directory)
            info.type = tarfile.DIRTYPE
            info.mode = 0o755
            info.mtime = EPOCH
            tar.addfile(info)
        for src, dest in files:
            with open(src, "rb") as handle:
                data = handle.read()
            _add_bytes(tar, dest.strip("/"), data, os.stat(src).st_mode & 0o7777)
        for dest, target in links:
            info = tarfile.TarInfo(dest.strip("/"))
            info.type = tarfile.SYMTYPE
            info.linkname = target
            info.mode = 0o777
            info.mtime = EPOCH
            tar.addfile(info)
    return buf.getvalue()


def build_image(name, files, links, cmd, arch="amd64"):
    """Return {path in archive: bytes} for the OCI image layout."""
    layer = build_layer(files, links)
    layer_digest = "sha256:" + hashlib.sha256(layer).hexdigest()
    config = json.dumps({
        "architecture": arch,
        "os": "linux",
        "config": {"Cmd": cmd, "Env": ["PATH=/bin"], "WorkingDir": "/"},
        "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
        "history": [{"created_by": "kubelayer oci_image.py", "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(EPOCH))}],
    }, sort_keys=True).encode()
    config_digest = "sha256:" + hashlib.sha256(config).hexdigest()
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer_digest, "size": len(layer)}],
    }, sort_keys=True).encode()
    manifest_digest = "sha256:" + hashlib.sha256(manifest).hexdigest()
    index = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": manifest_digest,
            "size": len(manifest),
            "platform": {"architecture": arch, "os": "linux"},
            "annotations": {"io.containerd.image.name": name, "org.opencontainers.image.ref.name": name},
        }],
    }, sort_keys=True).encode()
    out = {"oci-layout": json.dumps({"imageLayoutVersion": "1.0.0"}).encode(), "index.json": index}
    for digest, blob in ((layer_digest, layer), (config_digest, config), (manifest_digest, manifest)):
        out["blobs/sha256/" + digest.split(":", 1)[1]] = blob
    return out, manifest_digest


def write_archive(entries, path):
    tmp = path + ".tmp"
    with tarfile.open(tmp, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for directory in ("blobs", "blobs/sha256"):
            info = tarfile.TarInfo(directory)
            info.type = tarfile.DIRTYPE
            info.mode = 0o755
            info.mtime = EPOCH
            tar.addfile(info)
        for name in sorted(entries):
            _add_bytes(tar, name, entries[name])
    os.replace(tmp, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--file", action="append", default=[], help="SRC:DEST")
    parser.add_argument("--link", action="append", default=[], help="DEST=TARGET")
    parser.add_argument("--cmd", required=True, help="comma-separated argv")
    parser.add_argument("--arch", default="amd64")
    args = parser.parse_args()
    files = [tuple(f.split(":", 1)) for f in args.file]
    links = [tuple(l.split("=", 1)) for l in args.link]
    entries, digest = build_image(args.name, files, links, args.cmd.split(","), args.arch)
    write_archive(entries, args.out)
    print(json.dumps({"name": args.name, "manifest": digest, "out": args.out}))


if __name__ == "__main__":
    main()

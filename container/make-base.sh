#!/bin/sh
# Builds a local stand-in for the Dockerfile's base image (python:3.12-slim) from Debian's own
# packages, for machines that cannot pull from a public registry: debootstrap a minimal
# bookworm root with python3 and its venv module, then `docker import` it under TAG.
# Debian bookworm's python3 is 3.11, which the project supports (>= 3.10).
#
#   container/make-base.sh [TAG]        (default TAG: mock-bedrock-base:bookworm; needs root)
#
# The root trusts this machine's CA bundle (SSL_CERT_FILE, else Debian's), so pip inside a
# build reaches the package index through whatever TLS proxy this machine itself trusts.
set -eu

tag=${1:-mock-bedrock-base:bookworm}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
ca_bundle=${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}

for tool in debootstrap docker; do
    command -v "$tool" > /dev/null || {
        echo "make-base.sh: needs $tool (Debian: apt-get install docker.io debootstrap)" >&2
        exit 2
    }
done
[ "$(id -u)" -eq 0 ] || { echo "make-base.sh: debootstrap needs root" >&2; exit 2; }

root=$(mktemp -d /tmp/mock-bedrock-base.XXXXXX)
trap 'rm -rf "$root"' EXIT
chmod 755 "$root"  # it becomes the image's /: mktemp's 0700 would shut out the non-root user

debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    bookworm "$root" "$mirror"
[ -f "$ca_bundle" ] && cp "$ca_bundle" "$root/etc/ssl/certs/ca-certificates.crt"
# What a slim image leaves out: package lists, caches, documentation.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/usr/share/doc/* \
    "$root"/usr/share/man/* "$root"/usr/share/locale/*

tar -C "$root" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["python3"]' \
    - "$tag"
echo "make-base.sh: $tag built from Debian bookworm ($(docker run --rm --network host "$tag" python3 --version))"

#!/bin/sh
# `make container-check`: build the image from the Dockerfile, then run tests/system/test_container.py
# against it (it starts the containers, on the host network and free ports, and removes them).
#
# The base: $BASE_IMAGE if set; else python:3.12-slim when it is here or can be pulled; else
# a stand-in built from Debian's packages by container/make-base.sh (kept, and reused).
#
#   PYTHON=.venv/bin/python container/check.sh
set -eu
cd "$(dirname "$0")/.."

python=${PYTHON:-.venv/bin/python}
image=${MOCK_BEDROCK_CONTAINER_IMAGE:-mock-bedrock:check}
local_base=mock-bedrock-base:bookworm

command -v docker > /dev/null || {
    echo "container-check: needs docker (Debian: apt-get install docker.io; then a running" \
        "dockerd, e.g. dockerd --iptables=false --bridge=none --storage-driver=vfs &)" >&2
    exit 2
}
docker info > /dev/null 2>&1 || {
    echo "container-check: docker is installed but no daemon answers; start dockerd" \
        "(e.g. dockerd --iptables=false --bridge=none --storage-driver=vfs &)" >&2
    exit 2
}

if [ -n "${BASE_IMAGE:-}" ]; then
    base=$BASE_IMAGE
elif docker image inspect python:3.12-slim > /dev/null 2>&1 \
        || timeout 60 docker pull -q python:3.12-slim > /dev/null 2>&1; then
    base=python:3.12-slim
else
    base=$local_base
    if ! docker image inspect "$base" > /dev/null 2>&1; then
        echo "container-check: python:3.12-slim cannot be pulled; building $base from Debian's packages"
        container/make-base.sh "$base"
    fi
fi

# Without the buildx plugin a current docker CLI refuses to build unless told to use the
# classic builder; the Dockerfile works with both.
docker buildx version > /dev/null 2>&1 || export DOCKER_BUILDKIT=0

echo "container-check: building $image on $base"
started=$(date +%s)
# The host network: builds reach the package index the way this machine does (the daemon
# may run without a bridge, as dockerd --bridge=none).
docker build --quiet --network host --build-arg BASE_IMAGE="$base" -t "$image" . > /dev/null
echo "container-check: built in $(( $(date +%s) - started )) s;" \
    "$(docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' "$image")"

# Every container the tests start carries this run's label: whatever happens to the test
# run, none outlives it.
run_label=$$
cleanup() {
    ids=$(docker ps -aq --filter "label=mock-bedrock-check=$run_label")
    [ -z "$ids" ] || docker rm -f $ids > /dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM
MOCK_BEDROCK_CONTAINER_IMAGE=$image MOCK_BEDROCK_CHECK_LABEL=$run_label \
    "$python" -m pytest -q -rs -p no:cacheprovider tests/system/test_container.py

#!/usr/bin/env bash
# sparkup's GPU discovery script for Spark's standalone worker
# (spark.worker.resource.gpu.discoveryScript): prints the GPUs this container has as Spark's
# resource JSON, {"name": "gpu", "addresses": ["0", "1"]}. sparkup renders it into the cluster's
# ConfigMap beside the launcher, which runs it from an executable copy, so no image needs one.
#
# NVIDIA's container toolkit mounts nvidia-smi into every container it gives GPUs to, whatever
# the image, and nvidia-smi there lists exactly those GPUs, numbered from 0: the numbers CUDA
# takes. Other vendors' GPUs need a script of the image's (workers.gpuDiscoveryScript).
set -euo pipefail

if ! command -v nvidia-smi >/dev/null 2>&1; then
  echo "sparkup: no nvidia-smi in this container to list its GPUs: is the node's NVIDIA" \
    "container toolkit installed, and does the container ask for NVIDIA GPUs? For other GPUs," \
    "set workers.gpuDiscoveryScript to a script of the image that lists them" >&2
  exit 1
fi
listed=$(nvidia-smi --query-gpu=index --format=csv,noheader) ||
  {
    echo "sparkup: nvidia-smi could not list this container's GPUs" >&2
    exit 1
  }
addresses=()
while read -r index; do
  [[ -z "$index" ]] && continue
  [[ "$index" =~ ^[0-9]+$ ]] || {
    echo "sparkup: nvidia-smi listed a GPU index that is no number: $index" >&2
    exit 1
  }
  addresses+=("\"$index\"")
done <<<"$listed"
((${#addresses[@]} > 0)) || {
  echo "sparkup: nvidia-smi lists no GPU in this container" >&2
  exit 1
}
joined=$(
  IFS=,
  echo "${addresses[*]}"
)
printf '{"name": "gpu", "addresses": [%s]}\n' "$joined"

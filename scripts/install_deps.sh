#!/usr/bin/env bash
# Installs Vigie's build and test dependencies from Debian 12's repositories (as root). Idempotent: when every
# package is already installed it touches nothing and needs no network.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  openmpi-bin libopenmpi-dev libhdf5-openmpi-dev hdf5-tools petsc-dev
  libboost-program-options-dev libgtest-dev libbenchmark-dev
  libproj-dev proj-data nlohmann-json3-dev librandom123-dev libssl-dev zlib1g-dev
  libxxhash-dev libfast-float-dev tzdata util-linux libtiff-dev gdal-bin
  python3-h5py python3-numpy python3-pyproj python3-matplotlib gzip
  slurm-wlm slurmctld slurmd slurm-client munge
  clang-format clang-tidy
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install_deps: all ${#packages[@]} packages present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install_deps: missing packages (${missing[*]}); run as root or install them" >&2
  exit 1
fi
echo "install_deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=600 "${missing[@]}"

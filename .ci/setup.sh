#!/usr/bin/env bash
# Installs what npe needs beyond Rust: Verilator (simulation), Yosys (synthesis), zlib (FST traces),
# g++ and make (building the Verilated models).
# Idempotent and quiet when everything is already there; called by the README's commands and by .ci/run.
set -euo pipefail

need=()
command -v verilator >/dev/null 2>&1 || need+=(verilator)
command -v yosys >/dev/null 2>&1 || need+=(yosys)
[ -f /usr/include/zlib.h ] || need+=(zlib1g-dev)
command -v g++ >/dev/null 2>&1 || need+=(g++)
# npe-sim builds each Verilated model with Verilator's makefile.
command -v make >/dev/null 2>&1 || need+=(make)

if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]} (Debian packages)" >&2
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "setup: need root or sudo to apt-get install ${need[*]}" >&2; exit 1; }
    sudo="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

# Verilator 5 is required (the C++ model API and FST tracing we build against).
v=$(verilator --version | awk '{print $2}')
case "$v" in
  5.*) ;;
  *) echo "setup: Verilator $v found, npe needs 5.x" >&2; exit 1 ;;
esac

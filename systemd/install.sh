#!/bin/sh
# Installs facegate as a systemd service on a Raspberry Pi (or any systemd Linux):
#   /opt/facegate            the program (built dist/, production node_modules, models)
#   /etc/facegate/config.json the configuration (never overwritten; readable by root and the facegate group only)
#   /var/lib/facegate        state and data (created by systemd's StateDirectory=, owned by user facegate)
# Run from a checkout as root:  sudo systemd/install.sh [--no-start] [--dry-run]
set -eu

PREFIX=/opt/facegate
CONFIG_DIR=/etc/facegate
STATE_DIR=/var/lib/facegate
UNIT_DIR=/etc/systemd/system
SERVICE_USER=facegate
START=1
DRY_RUN=0

for arg in "$@"; do
  case "$arg" in
    --no-start) START=0 ;;
    --dry-run) DRY_RUN=1 ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $arg" >&2; exit 64 ;;
  esac
done

SOURCE=$(cd "$(dirname "$0")/.." && pwd)

# Every change to the system goes through run, so --dry-run shows exactly what would happen.
run() {
  if [ "$DRY_RUN" = 1 ]; then echo "+ $*"; else "$@"; fi
}

fail() { echo "install.sh: $*" >&2; exit 1; }

[ "$DRY_RUN" = 1 ] || [ "$(id -u)" = 0 ] || fail "run as root (sudo $0), or with --dry-run to see the steps"
command -v systemctl >/dev/null 2>&1 || [ "$DRY_RUN" = 1 ] || fail "systemd is required"
NODE=$(command -v node) || fail "node is not installed (Node 20 or newer is required)"
NODE_MAJOR=$("$NODE" -p 'process.versions.node.split(".")[0]')
[ "$NODE_MAJOR" -ge 20 ] || fail "Node $NODE_MAJOR found at $NODE; facegate needs Node 20 or newer"
[ -f "$SOURCE/package.json" ] && [ -f "$SOURCE/systemd/facegate.service" ] || fail "run this from a facegate checkout"

echo "== build"
# Build as the person who ran sudo, so the checkout does not end up owned by root.
if [ -n "${SUDO_USER:-}" ] && [ "$SUDO_USER" != root ]; then
  run sudo -u "$SUDO_USER" sh -c "cd '$SOURCE' && npm ci && npm run build"
else
  run sh -c "cd '$SOURCE' && npm ci && npm run build"
fi

echo "== user and groups"
# gpio and video exist on Raspberry Pi OS; elsewhere they are created so SupplementaryGroups= can resolve them.
for group in gpio video; do
  getent group "$group" >/dev/null 2>&1 || run groupadd --system "$group"
done
if ! id "$SERVICE_USER" >/dev/null 2>&1; then
  run useradd --system --home-dir "$STATE_DIR" --no-create-home --shell /usr/sbin/nologin \
    --groups gpio,video "$SERVICE_USER"
fi

echo "== program in $PREFIX"
run mkdir -p "$PREFIX"
for item in bin dist models config systemd package.json package-lock.json README.md; do
  [ -e "$SOURCE/$item" ] || continue
  run rm -rf "${PREFIX:?}/$item"
  run cp -R "$SOURCE/$item" "$PREFIX/$item"
done
run sh -c "cd '$PREFIX' && npm ci --omit=dev --no-audit --no-fund"
run chown -R root:root "$PREFIX"

echo "== configuration in $CONFIG_DIR"
run mkdir -p "$CONFIG_DIR"
if [ -e "$CONFIG_DIR/config.json" ]; then
  echo "keeping the existing $CONFIG_DIR/config.json"
else
  TEMPLATE="$SOURCE/config/raspberry-pi.json"
  [ -f "$TEMPLATE" ] || TEMPLATE="$SOURCE/config/default.json"
  # The service's own paths go into the file (not the unit's environment), so later edits here take effect.
  run "$NODE" -e '
    const fs = require("node:fs");
    const [template, target, state, model] = process.argv.slice(1);
    const config = JSON.parse(fs.readFileSync(template, "utf8"));
    config.paths = { data: state + "/data", state: state + "/state", ...config.paths };
    config.model = { dir: model, ...config.model };
    fs.writeFileSync(target, JSON.stringify(config, null, 2) + "\n");
  ' "$TEMPLATE" "$CONFIG_DIR/config.json" "$STATE_DIR" "$PREFIX/models/default"
fi
# The config may hold the MQTT password and the unlock secret.
run chown root:"$SERVICE_USER" "$CONFIG_DIR" "$CONFIG_DIR/config.json"
run chmod 0750 "$CONFIG_DIR"
run chmod 0640 "$CONFIG_DIR/config.json"

echo "== systemd unit"
# The unit names /usr/bin/node for the launcher; point it at the node this machine really has.
if [ "$DRY_RUN" = 1 ]; then
  echo "+ install $UNIT_DIR/facegate.service (NODE_BINARY=$NODE)"
else
  sed "s#^Environment=NODE_BINARY=/usr/bin/node\$#Environment=NODE_BINARY=$NODE#" "$SOURCE/systemd/facegate.service" > "$UNIT_DIR/facegate.service"
  chmod 0644 "$UNIT_DIR/facegate.service"
fi
if command -v systemd-analyze >/dev/null 2>&1; then run systemd-analyze verify "$UNIT_DIR/facegate.service"; fi
run systemctl daemon-reload
if [ "$START" = 1 ]; then
  run systemctl enable --now facegate.service
  echo "facegate is running: journalctl -u facegate -f"
else
  run systemctl enable facegate.service
  echo "installed; start with: systemctl start facegate"
fi
echo "enrolled people go in $STATE_DIR/data/gallery (facegate enroll NAME --images DIR, run as user $SERVICE_USER)"

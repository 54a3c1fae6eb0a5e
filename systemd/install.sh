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
[ -f "$SOURCE/package.json" ] && [ -f "$SOURCE/systemd/facegate.service" ] || fail "run this from a facegate checkout"

# Node: the one the unit will run. sudo keeps root's PATH, so a Node found only in the user's shell is missed.
NODE=${FACEGATE_NODE:-$(command -v node || true)}
[ -n "$NODE" ] || fail "node is not on root's PATH: install Node 22 or 24 system-wide (README \"Raspberry Pi install\"), or pass FACEGATE_NODE=/path/to/node"
NODE=$(readlink -f "$NODE")
NODE_MAJOR=$("$NODE" -p 'process.versions.node.split(".")[0]')
[ "$NODE_MAJOR" -ge 22 ] || fail "Node $("$NODE" --version) found at $NODE; facegate needs Node 22 or newer (README \"Raspberry Pi install\")"
# The unit has ProtectHome=true: /home, /root and /run/user are empty for it, so nvm's or fnm's node is not there.
case "$NODE" in
  /home/*|/root/*|/run/user/*) fail "$NODE lives in a home folder, which the service cannot see (ProtectHome=true): install Node system-wide (README \"Raspberry Pi install\": NodeSource's nodejs package) and run again" ;;
esac
NPM="$(dirname "$NODE")/npm"
[ -x "$NPM" ] || NPM=$(command -v npm) || fail "npm not found beside $NODE"

# onoff's native addon (epoll) is compiled at install: say so now rather than after a half-finished install.
missing=""
for tool in make g++ python3; do command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"; done
[ -z "$missing" ] || fail "build tools missing:$missing (onoff's epoll addon is compiled at install): sudo apt install build-essential python3"

# Commands run as the person who ran sudo, in the checkout, so it does not end up owned by root.
as_user() {
  if [ -n "${SUDO_USER:-}" ] && [ "$SUDO_USER" != root ]; then run sudo -u "$SUDO_USER" env PATH="$(dirname "$NODE"):$PATH" sh -c "cd '$SOURCE' && $1"
  else run sh -c "cd '$SOURCE' && $1"; fi
}

echo "== build (in $SOURCE, as ${SUDO_USER:-root})"
# The one install: npm ci in the checkout (for the Node the service runs, so epoll is built for it), the build,
# then $PREFIX gets a copy pruned to production. Nothing is installed twice, no dependency script runs as root.
as_user "$NPM ci --no-audit --no-fund"
as_user "$NPM run build"

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
for item in bin dist models config systemd package.json package-lock.json .npmrc README.md node_modules; do
  [ -e "$SOURCE/$item" ] || continue
  run rm -rf "${PREFIX:?}/$item"
  run cp -R "$SOURCE/$item" "$PREFIX/$item"
done
# Development packages out (no scripts run), then the source maps no door reads (systemd/prune-runtime.sh).
run sh -c "cd '$PREFIX' && $NPM prune --omit=dev --ignore-scripts --no-audit --no-fund"
run sh "$PREFIX/systemd/prune-runtime.sh" "$PREFIX"
run chown -R root:root "$PREFIX"

echo "== the facegate command"
# On PATH for the operator and for sudo (secure_path has /usr/local/bin), with the service's Node and config.
if [ "$DRY_RUN" = 1 ]; then
  echo "+ install /usr/local/bin/facegate (exec $PREFIX/bin/facegate with NODE_BINARY=$NODE, config $CONFIG_DIR/config.json)"
else
  cat > /usr/local/bin/facegate <<WRAPPER
#!/bin/sh
# Installed by facegate's systemd/install.sh: the service's launcher, Node and configuration (--config FILE overrides).
NODE_BINARY="$NODE" FACEGATE_CONFIG="\${FACEGATE_CONFIG:-$CONFIG_DIR/config.json}" exec "$PREFIX/bin/facegate" "\$@"
WRAPPER
  chmod 0755 /usr/local/bin/facegate
fi

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
echo "enroll as the service user: sudo -u $SERVICE_USER facegate enroll NAME --images DIR (photos readable by $SERVICE_USER)"
echo "read the config without sudo: sudo usermod -aG $SERVICE_USER \$USER, then log in again"

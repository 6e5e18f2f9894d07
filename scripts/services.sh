# shellcheck shell=bash
# shellcheck disable=SC2034 # HUB_*_STARTED_HERE are read by the scripts that source this file
# Local services for ConnectorHub: a private PostgreSQL 15 cluster and a private RabbitMQ 3.10
# node, each in a project-local folder, on free loopback ports. No Docker needed.
#
# Source this file; it defines functions only (plus a few defaults). Main entry points:
#   pg_start DIR [--trust]      start (initdb if needed) a cluster in DIR, export HUB_PG_CONNECTION
#   pg_stop DIR                 stop it (pg_ctl stop -m fast)
#   rabbit_start DIR            start a node in DIR, export HUB_RABBITMQ_CONNECTION
#                               (HUB_RABBITMQ_MANAGEMENT=1 adds the management UI on a free port;
#                               off by default: it costs ~2 s at start and 5 s at stop)
#   rabbit_launch DIR / rabbit_await DIR
#                               the two halves of rabbit_start (to overlap with pg_start)
#   rabbit_stop DIR             stop it (rabbitmqctl shutdown)
#   hub_free_port               print a free TCP port on 127.0.0.1 (claimed for a few minutes)
#   hub_ensure_packages PKG...  apt-get install the Debian packages that are missing
#
# Overrides: when HUB_POSTGRES (Npgsql connection string) or HUB_RABBITMQ (amqp:// URI) is set,
# that service is not provisioned; the given value is exported as-is.
#
# After a *_start, HUB_PG_STARTED_HERE / HUB_RABBIT_STARTED_HERE is 1 when this call started the
# service (0 when it reused a running one or an external one), so callers stop only what they
# started.

HUB_PG_BIN="${HUB_PG_BIN:-/usr/lib/postgresql/15/bin}"
HUB_RABBIT_BIN="${HUB_RABBIT_BIN:-/usr/lib/rabbitmq/bin}"
HUB_START_TIMEOUT="${HUB_START_TIMEOUT:-60}"
HUB_PG_STARTED_HERE=0
HUB_RABBIT_STARTED_HERE=0
_HUB_APT_UPDATED=0

# ---------------------------------------------------------------------------------------------
# Messages

hub_info() { printf '[hub] %s\n' "$*" >&2; }
hub_warn() { printf '[hub] warning: %s\n' "$*" >&2; }
hub_fail() { printf '[hub] error: %s\n' "$*" >&2; exit 1; }

# hub_log_tail FILE [LINES]: print the end of a log file, indented, to stderr.
hub_log_tail() {
  local file="$1" lines="${2:-40}"
  if [[ -f "$file" ]]; then
    printf '[hub] --- last %s lines of %s ---\n' "$lines" "$file" >&2
    tail -n "$lines" "$file" | sed 's/^/    /' >&2
    printf '[hub] --- end of %s ---\n' "$file" >&2
  else
    printf '[hub] (no log at %s)\n' "$file" >&2
  fi
}

# ---------------------------------------------------------------------------------------------
# Small helpers

# hub_abs PATH: absolute path of PATH (which need not exist yet).
hub_abs() {
  case "$1" in
    /*) printf '%s\n' "$1" ;;
    *) printf '%s/%s\n' "$PWD" "$1" ;;
  esac
}

# hub_gen_password: 32 random alphanumeric characters (safe in URIs and connection strings).
hub_gen_password() {
  head -c 96 /dev/urandom | base64 -w0 | tr -dc 'A-Za-z0-9' | cut -c1-32
}

# hub_write_secret FILE VALUE: write VALUE to FILE with mode 0600.
hub_write_secret() {
  local file="$1" value="$2"
  (umask 077 && printf '%s\n' "$value" >"$file")
  chmod 600 "$file"
}

# hub_read_file FILE: print the first line of FILE (nothing when FILE does not exist).
hub_read_file() {
  local v=""
  [[ -f "$1" ]] && { IFS= read -r v <"$1" || true; }
  printf '%s\n' "$v"
}

# hub_port_open PORT: true when something accepts TCP connections on 127.0.0.1:PORT.
hub_port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# hub_port_free PORT: true when PORT can be bound on 127.0.0.1 (and nothing listens on it).
hub_port_free() {
  local port="$1"
  hub_port_open "$port" && return 1
  if command -v python3 >/dev/null 2>&1; then
    python3 - "$port" <<'PY' 2>/dev/null
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
finally:
    s.close()
PY
  fi
}

# hub_claim_port PORT: atomically claim PORT among concurrent hub scripts on this machine, so that
# two runs never pick the same port between "found free" and "bound". Claims expire after 10 min.
hub_claim_port() {
  local claims="${TMPDIR:-/tmp}/hub-port-claims"
  mkdir -p "$claims"
  find "$claims" -mindepth 1 -maxdepth 1 -mmin +10 -exec rmdir {} + 2>/dev/null || true
  mkdir "$claims/$1" 2>/dev/null
}

# hub_free_port [PREFERRED]: print a free TCP port on 127.0.0.1. PREFERRED is tried first.
# Random ports are drawn from 20000-31999, below the kernel's ephemeral range.
hub_free_port() {
  local preferred="${1:-}" port attempt
  if [[ -n "$preferred" ]] && hub_port_free "$preferred"; then
    hub_claim_port "$preferred" || true # the folder that used it last may reuse it
    printf '%s\n' "$preferred"
    return 0
  fi
  for ((attempt = 0; attempt < 200; attempt++)); do
    port=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
    if hub_port_free "$port" && hub_claim_port "$port"; then
      printf '%s\n' "$port"
      return 0
    fi
  done
  hub_fail "no free TCP port found on 127.0.0.1"
}

# hub_wait_for DESCRIPTION TIMEOUT_SECONDS COMMAND...: run COMMAND every 0.25 s until it succeeds.
hub_wait_for() {
  local what="$1" timeout="$2"
  shift 2
  local deadline=$((SECONDS + timeout))
  until "$@"; do
    if ((SECONDS >= deadline)); then
      hub_warn "timed out after ${timeout}s waiting for $what"
      return 1
    fi
    sleep 0.25
  done
}

# ---------------------------------------------------------------------------------------------
# Packages

hub_package_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# hub_ensure_packages PKG...: install the missing Debian packages (apt-get update once first).
# Package maintainer scripts are kept from starting system services (we run our own instances).
hub_ensure_packages() {
  local missing=() pkg rc=0 policy=/usr/sbin/policy-rc.d added_policy=0
  for pkg in "$@"; do
    hub_package_installed "$pkg" || missing+=("$pkg")
  done
  ((${#missing[@]} == 0)) && return 0
  command -v apt-get >/dev/null 2>&1 || hub_fail "missing packages (${missing[*]}) and no apt-get to install them"
  local sudo=()
  if ((EUID != 0)); then
    command -v sudo >/dev/null 2>&1 || hub_fail "missing packages (${missing[*]}): run as root or install them"
    sudo=(sudo)
  fi
  hub_info "installing ${missing[*]} (apt-get)"
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
    "${sudo[@]}" chmod 755 "$policy"
    added_policy=1
  fi
  if ((_HUB_APT_UPDATED == 0)); then
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq || rc=$?
    _HUB_APT_UPDATED=1
  fi
  if ((rc == 0)); then
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}" >/dev/null || rc=$?
  fi
  ((added_policy)) && "${sudo[@]}" rm -f "$policy"
  ((rc == 0)) || hub_fail "apt-get could not install ${missing[*]} (exit $rc)"
}

# ---------------------------------------------------------------------------------------------
# PostgreSQL

# The OS user that runs postgres: the current user, or (as root, which postgres refuses)
# HUB_PG_OS_USER, default "postgres", created as a system user when missing.
_pg_os_user() {
  if ((EUID != 0)); then
    id -un
    return 0
  fi
  local user="${HUB_PG_OS_USER:-postgres}"
  if ! id -u "$user" >/dev/null 2>&1; then
    hub_info "creating system user '$user' to run PostgreSQL"
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin "$user" >&2
  fi
  printf '%s\n' "$user"
}


# _pg_layout DIR: set _PG_DIR, _PG_DATA, _PG_SOCK, _PG_LOG for the cluster kept in DIR.
# The data folder is DIR/pg; when the postgres user cannot reach DIR (e.g. under /root), the data
# lives in /var/tmp/hub-pg-<hash> instead and DIR/pg.location points to it.
_pg_layout() {
  _PG_DIR="$(hub_abs "$1")"
  mkdir -p "$_PG_DIR"
  _HUB_PG_USER="$(_pg_os_user)"
  # _PG_AS: prefix that runs a command as the postgres OS user. (An array, not a function: a
  # redirection on a function call also redirects the traps that run during it.)
  _PG_AS=()
  ((EUID == 0)) && _PG_AS=(runuser -u "$_HUB_PG_USER" --)
  if [[ -f "$_PG_DIR/pg.location" ]]; then
    _PG_DATA="$(hub_read_file "$_PG_DIR/pg.location")"
  else
    _PG_DATA="$_PG_DIR/pg"
    if ((EUID == 0)) && ! runuser -u "$_HUB_PG_USER" -- test -x "$_PG_DIR" 2>/dev/null; then
      local hash
      hash="$(printf '%s' "$_PG_DIR" | cksum | cut -d' ' -f1)"
      _PG_DATA="/var/tmp/hub-pg-$hash/pg"
      hub_warn "user '$_HUB_PG_USER' cannot reach $_PG_DIR; keeping the cluster in $_PG_DATA"
      printf '%s\n' "$_PG_DATA" >"$_PG_DIR/pg.location"
    fi
  fi
  _PG_SOCK="$(dirname "$_PG_DATA")/pg-socket"
  if ((${#_PG_SOCK} > 90)); then # a unix socket path must stay under 108 bytes
    _PG_SOCK="/tmp/hub-pgsock-$(printf '%s' "$_PG_DATA" | cksum | cut -d' ' -f1)"
  fi
  _PG_LOG="$(dirname "$_PG_DATA")/postgres.log"
}

_pg_running() {
  [[ -f "$_PG_DATA/postmaster.pid" ]] && "${_PG_AS[@]}" "$HUB_PG_BIN/pg_ctl" -D "$_PG_DATA" status >/dev/null 2>&1
}

_pg_ready() {
  "${_PG_AS[@]}" "$HUB_PG_BIN/pg_isready" -q -h "$_PG_SOCK" -p "$1" -d postgres -U "$_HUB_PG_USER" 2>/dev/null
}

# _pg_psql PORT: run SQL from stdin as the superuser over the unix socket.
_pg_psql() {
  local port="$1"
  shift
  "${_PG_AS[@]}" psql -X -q -v ON_ERROR_STOP=1 -h "$_PG_SOCK" -p "$port" -U "$_HUB_PG_USER" -d postgres "$@"
}

# pg_start DIR [--trust]: ensure a PostgreSQL 15 cluster in DIR runs; export HUB_PG_CONNECTION.
# Default: scram-sha-256 on 127.0.0.1, password generated once into DIR/password (0600).
# --trust: throw-away cluster for tests (trust auth, fsync off); role hub is superuser there.
pg_start() {
  local dir="${1:?usage: pg_start DIR [--trust]}" mode="${2:-}"
  HUB_PG_STARTED_HERE=0
  if [[ -n "${HUB_POSTGRES:-}" ]]; then
    hub_info "PostgreSQL: using HUB_POSTGRES from the environment (not provisioning one)"
    export HUB_PG_CONNECTION="$HUB_POSTGRES"
    return 0
  fi
  [[ -x "$HUB_PG_BIN/initdb" ]] || hub_fail "PostgreSQL 15 not found in $HUB_PG_BIN (set HUB_PG_BIN, or HUB_POSTGRES to use an existing server)"
  command -v psql >/dev/null 2>&1 || hub_fail "psql not found (apt-get install postgresql-client-15)"
  _pg_layout "$dir"
  local trust=0
  [[ "$mode" == "--trust" ]] && trust=1

  local password=""
  if ((trust == 0)); then
    [[ -f "$_PG_DIR/password" ]] || hub_write_secret "$_PG_DIR/password" "$(hub_gen_password)"
    password="$(hub_read_file "$_PG_DIR/password")"
  fi

  local port
  if _pg_running; then
    port="$(hub_read_file "$_PG_DIR/pg.port")"
    hub_info "PostgreSQL already running in $_PG_DATA on port $port: reusing it"
  else
    if [[ ! -f "$_PG_DATA/PG_VERSION" ]]; then
      local auth=(--auth-local=peer --auth-host=scram-sha-256) locale=C
      ((trust)) && auth=(--auth=trust)
      locale -a 2>/dev/null | grep -qix 'c\.utf-\?8' && locale=C.UTF-8
      mkdir -p "$_PG_DATA"
      chown "$_HUB_PG_USER:" "$_PG_DATA" "$(dirname "$_PG_DATA")"
      chmod 700 "$_PG_DATA"
      hub_info "PostgreSQL: initdb in $_PG_DATA"
      if ! "${_PG_AS[@]}" "$HUB_PG_BIN/initdb" -D "$_PG_DATA" -U "$_HUB_PG_USER" -E UTF8 --locale="$locale" \
        "${auth[@]}" >"$_PG_DIR/initdb.log" 2>&1; then
        hub_log_tail "$_PG_DIR/initdb.log"
        hub_fail "initdb failed"
      fi
    fi
    mkdir -p "$_PG_SOCK"
    chown "$_HUB_PG_USER:" "$_PG_SOCK"
    chmod 700 "$_PG_SOCK"
    touch "$_PG_LOG"
    chown "$_HUB_PG_USER:" "$_PG_LOG"
    local previous=""
    [[ -f "$_PG_DIR/pg.port" ]] && previous="$(hub_read_file "$_PG_DIR/pg.port")"
    port="$(hub_free_port "$previous")"
    # random_page_cost 1.1: the server provisioned here keeps its data on this machine's own disk (SSD-class, mostly in
    # the page cache), where a page read by index costs about what a sequential one does. With the default (4) the
    # writer's merge of an incremental run joined the whole published table instead of looking up its few changed keys.
    # wal_level minimal: this server has no replica and no WAL archive, so a table filled in the transaction that created
    # or truncated it needs no WAL (the writer's load of a first version, SnapshotWriter); backups are pg_dump's.
    local opts="-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$_PG_SOCK -c random_page_cost=1.1"
    opts+=" -c wal_level=minimal -c max_wal_senders=0"
    if ((trust)); then
      opts+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
    fi
    hub_info "PostgreSQL: starting on 127.0.0.1:$port (log: $_PG_LOG)"
    if ! "${_PG_AS[@]}" "$HUB_PG_BIN/pg_ctl" -D "$_PG_DATA" -l "$_PG_LOG" -o "$opts" -w -t "$HUB_START_TIMEOUT" \
      start >"$_PG_DIR/pg_ctl.log" 2>&1; then
      hub_log_tail "$_PG_DIR/pg_ctl.log" 10
      hub_log_tail "$_PG_LOG"
      hub_fail "PostgreSQL did not start within ${HUB_START_TIMEOUT}s"
    fi
    printf '%s\n' "$port" >"$_PG_DIR/pg.port"
    HUB_PG_STARTED_HERE=1
  fi
  if ! hub_wait_for "PostgreSQL on port $port" "$HUB_START_TIMEOUT" _pg_ready "$port"; then
    hub_log_tail "$_PG_LOG"
    hub_fail "PostgreSQL is not accepting connections"
  fi

  local role_attrs="LOGIN CREATEDB"
  ((trust)) && role_attrs="LOGIN SUPERUSER"
  local pw_sql="PASSWORD NULL"
  [[ -n "$password" ]] && pw_sql="PASSWORD '$password'"
  _pg_psql "$port" <<SQL
SELECT 'CREATE ROLE hub' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'hub') \gexec
ALTER ROLE hub $role_attrs $pw_sql;
SELECT 'CREATE DATABASE hub OWNER hub' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'hub') \gexec
SQL

  if [[ -n "$password" ]]; then
    export HUB_PG_CONNECTION="Host=127.0.0.1;Port=$port;Username=hub;Password=$password;Database=hub"
  else
    export HUB_PG_CONNECTION="Host=127.0.0.1;Port=$port;Username=hub;Database=hub"
  fi
}

# pg_env DIR: when the cluster in DIR runs, export HUB_PG_CONNECTION for it (no start).
pg_env() {
  if [[ -n "${HUB_POSTGRES:-}" ]]; then
    export HUB_PG_CONNECTION="$HUB_POSTGRES"
    return 0
  fi
  _pg_layout "$1"
  _pg_running || return 1
  local port password=""
  port="$(hub_read_file "$_PG_DIR/pg.port")"
  [[ -f "$_PG_DIR/password" ]] && password="$(hub_read_file "$_PG_DIR/password")"
  if [[ -n "$password" ]]; then
    export HUB_PG_CONNECTION="Host=127.0.0.1;Port=$port;Username=hub;Password=$password;Database=hub"
  else
    export HUB_PG_CONNECTION="Host=127.0.0.1;Port=$port;Username=hub;Database=hub"
  fi
}

# pg_stop DIR: stop the cluster in DIR if it runs (fast shutdown; immediate as a last resort).
pg_stop() {
  local dir="${1:?usage: pg_stop DIR}"
  [[ -n "${HUB_POSTGRES:-}" ]] && return 0
  [[ -d "$dir" ]] || return 0
  _pg_layout "$dir"
  _pg_running || return 0
  hub_info "PostgreSQL: stopping ($_PG_DATA)"
  if ! "${_PG_AS[@]}" "$HUB_PG_BIN/pg_ctl" -D "$_PG_DATA" -m fast -w -t "$HUB_START_TIMEOUT" stop >/dev/null 2>&1; then
    hub_warn "PostgreSQL did not stop in time; forcing an immediate shutdown"
    "${_PG_AS[@]}" "$HUB_PG_BIN/pg_ctl" -D "$_PG_DATA" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
  fi
}

# pg_destroy DIR: stop the cluster and delete its data (throw-away clusters only).
pg_destroy() {
  local dir="${1:?usage: pg_destroy DIR}"
  [[ -n "${HUB_POSTGRES:-}" ]] && return 0
  [[ -d "$dir" ]] || return 0
  pg_stop "$dir"
  _pg_layout "$dir"
  if [[ "$_PG_DATA" != "$_PG_DIR/pg" ]]; then rm -rf "$(dirname "$_PG_DATA")"; fi
  if [[ "$_PG_SOCK" == /tmp/hub-pgsock-* ]]; then rm -rf "$_PG_SOCK"; fi
  rm -rf "$_PG_DIR"
}

# ---------------------------------------------------------------------------------------------
# RabbitMQ

# _rabbit_layout DIR: set _RB_DIR, _RB_NODE, _RB_ENV (environment for rabbitmq-server and CLI).
# The node name is derived from the folder, so it is stable across restarts (the Mnesia data is
# per node) and distinct for concurrent folders.
_rabbit_layout() {
  _RB_DIR="$(hub_abs "$1")"
  mkdir -p "$_RB_DIR"/{home,mnesia,log,plugins-expand}
  chmod 700 "$_RB_DIR/home"
  if [[ -f "$_RB_DIR/rabbit.node" ]]; then
    _RB_NODE="$(hub_read_file "$_RB_DIR/rabbit.node")"
  else
    local hash
    hash="$(printf '%s' "$_RB_DIR" | cksum | cut -d' ' -f1)"
    _RB_NODE="hub-$hash@localhost"
    printf '%s\n' "$_RB_NODE" >"$_RB_DIR/rabbit.node"
  fi
  _RB_LOG="$_RB_DIR/log/$_RB_NODE.log"
  _RB_PIDFILE="$_RB_DIR/rabbit.pid"
  _RB_ENV=(
    "HOME=$_RB_DIR/home"
    "RABBITMQ_NODENAME=$_RB_NODE"
    "RABBITMQ_CONF_ENV_FILE=$_RB_DIR/rabbitmq-env.conf"
    "RABBITMQ_CONFIG_FILE=$_RB_DIR/rabbitmq.conf"
    "RABBITMQ_ADVANCED_CONFIG_FILE=$_RB_DIR/advanced.config"
    "RABBITMQ_ENABLED_PLUGINS_FILE=$_RB_DIR/enabled_plugins"
    "RABBITMQ_MNESIA_BASE=$_RB_DIR/mnesia"
    "RABBITMQ_LOG_BASE=$_RB_DIR/log"
    "RABBITMQ_PLUGINS_EXPAND_DIR=$_RB_DIR/plugins-expand"
    "RABBITMQ_PID_FILE=$_RB_PIDFILE"
    "ERL_CRASH_DUMP=$_RB_DIR/log/erl_crash.dump"
  )
  _RB_CTL=(env "${_RB_ENV[@]}" "$HUB_RABBIT_BIN/rabbitmqctl" -n "$_RB_NODE")
  # The cookie must exist before the node and the CLI start; both read it from $HOME.
  if [[ ! -f "$_RB_DIR/home/.erlang.cookie" ]]; then
    (umask 077 && hub_gen_password | tr '[:lower:]' '[:upper:]' >"$_RB_DIR/home/.erlang.cookie")
    chmod 400 "$_RB_DIR/home/.erlang.cookie"
  fi
  : >"$_RB_DIR/rabbitmq-env.conf"
}


_rabbit_pid() {
  local pid
  [[ -f "$_RB_PIDFILE" ]] || return 1
  pid="$(hub_read_file "$_RB_PIDFILE")"
  [[ -n "$pid" ]] && _hub_alive "$pid" && printf '%s\n' "$pid"
}

_rabbit_running() { [[ -n "$(_rabbit_pid)" ]]; }

_rabbit_uri() {
  printf 'amqp://hub:%s@127.0.0.1:%s/\n' "$(hub_read_file "$_RB_DIR/password")" "$(hub_read_file "$_RB_DIR/rabbit.port")"
}

# rabbit_launch DIR: start the node in DIR in the background (no waiting).
# The management UI is enabled when HUB_RABBITMQ_MANAGEMENT=1.
rabbit_launch() {
  local dir="${1:?usage: rabbit_launch DIR}"
  HUB_RABBIT_STARTED_HERE=0
  if [[ -n "${HUB_RABBITMQ:-}" ]]; then
    hub_info "RabbitMQ: using HUB_RABBITMQ from the environment (not provisioning one)"
    return 0
  fi
  [[ -x "$HUB_RABBIT_BIN/rabbitmq-server" ]] || hub_ensure_packages rabbitmq-server
  _rabbit_layout "$dir"
  if _rabbit_running; then
    hub_info "RabbitMQ node $_RB_NODE already running: reusing it"
    return 0
  fi
  local management=0
  [[ "${HUB_RABBITMQ_MANAGEMENT:-0}" == "1" ]] && management=1

  local fresh=0
  [[ -d "$_RB_DIR/mnesia/$_RB_NODE" ]] || fresh=1
  if [[ ! -f "$_RB_DIR/password" ]]; then
    hub_write_secret "$_RB_DIR/password" "$(hub_gen_password)"
    ((fresh)) || : >"$_RB_DIR/password.reset" # existing node: change the password once it is up
  fi
  local password previous="" port dist mgmt=""
  password="$(hub_read_file "$_RB_DIR/password")"
  [[ -f "$_RB_DIR/rabbit.port" ]] && previous="$(hub_read_file "$_RB_DIR/rabbit.port")"
  port="$(hub_free_port "$previous")"
  dist="$(hub_free_port)"
  printf '%s\n' "$port" >"$_RB_DIR/rabbit.port"
  rm -f "$_RB_DIR/management.port"

  # default_user/default_pass create user hub (administrator, all permissions on vhost /) on
  # first boot, instead of guest.
  (
    umask 077
    cat >"$_RB_DIR/rabbitmq.conf" <<CONF
listeners.tcp.1 = 127.0.0.1:$port
default_vhost = /
default_user = hub
default_pass = $password
default_user_tags.administrator = true
default_permissions.configure = .*
default_permissions.read = .*
default_permissions.write = .*
log.console = false
log.file.level = info
disk_free_limit.absolute = 50MB
CONF
  )
  if ((management)); then
    mgmt="$(hub_free_port "$(hub_read_file "$_RB_DIR/management.port.last")")"
    printf 'management.tcp.ip = 127.0.0.1\nmanagement.tcp.port = %s\n' "$mgmt" >>"$_RB_DIR/rabbitmq.conf"
    printf '[rabbitmq_management].\n' >"$_RB_DIR/enabled_plugins"
    printf '%s\n' "$mgmt" >"$_RB_DIR/management.port"
    printf '%s\n' "$mgmt" >"$_RB_DIR/management.port.last"
  else
    printf '[].\n' >"$_RB_DIR/enabled_plugins"
  fi

  rm -f "$_RB_PIDFILE"
  hub_info "RabbitMQ: starting node $_RB_NODE on 127.0.0.1:$port (distribution port $dist, log: $_RB_LOG)"
  # setsid: a Ctrl-C in the terminal reaches the hub script, which then stops the node in order.
  env "${_RB_ENV[@]}" \
    RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
    RABBITMQ_NODE_PORT="$port" \
    RABBITMQ_DIST_PORT="$dist" \
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
    setsid "$HUB_RABBIT_BIN/rabbitmq-server" >"$_RB_DIR/log/startup.log" 2>&1 </dev/null &
  printf '%s\n' "$!" >"$_RB_DIR/launcher.pid"
  HUB_RABBIT_STARTED_HERE=1
}

# rabbit_await DIR: wait (bounded) until the node launched in DIR serves AMQP; export
# HUB_RABBITMQ_CONNECTION. On failure print the log tails and stop what was launched.
rabbit_await() {
  local dir="${1:?usage: rabbit_await DIR}"
  if [[ -n "${HUB_RABBITMQ:-}" ]]; then
    export HUB_RABBITMQ_CONNECTION="$HUB_RABBITMQ"
    return 0
  fi
  _rabbit_layout "$dir"
  local port launcher="" deadline=$((SECONDS + HUB_START_TIMEOUT))
  port="$(hub_read_file "$_RB_DIR/rabbit.port")"
  [[ -f "$_RB_DIR/launcher.pid" ]] && launcher="$(hub_read_file "$_RB_DIR/launcher.pid")"
  until hub_port_open "$port"; do
    if ! _rabbit_running && [[ -n "$launcher" ]] && _hub_gone "$launcher"; then
      hub_log_tail "$_RB_DIR/log/startup.log"
      hub_log_tail "$_RB_LOG"
      hub_fail "RabbitMQ node $_RB_NODE exited during startup"
    fi
    if ((SECONDS >= deadline)); then
      hub_log_tail "$_RB_DIR/log/startup.log"
      hub_log_tail "$_RB_LOG"
      rabbit_stop "$dir" || true
      hub_fail "RabbitMQ node $_RB_NODE did not open port $port within ${HUB_START_TIMEOUT}s"
    fi
    sleep 0.25
  done
  if ! "${_RB_CTL[@]}" -q await_startup --timeout "$HUB_START_TIMEOUT" >/dev/null 2>"$_RB_DIR/log/ctl.log"; then
    hub_log_tail "$_RB_DIR/log/ctl.log" 10
    hub_log_tail "$_RB_LOG"
    rabbit_stop "$dir" || true
    hub_fail "RabbitMQ node $_RB_NODE did not finish starting"
  fi
  if [[ -f "$_RB_DIR/password.reset" ]]; then
    "${_RB_CTL[@]}" -q change_password hub "$(hub_read_file "$_RB_DIR/password")" >/dev/null
    rm -f "$_RB_DIR/password.reset"
  fi
  if [[ -f "$_RB_DIR/management.port" ]]; then
    hub_info "RabbitMQ management UI: http://127.0.0.1:$(hub_read_file "$_RB_DIR/management.port")/ (user hub, password in $_RB_DIR/password)"
  fi
  HUB_RABBITMQ_CONNECTION="$(_rabbit_uri)"
  export HUB_RABBITMQ_CONNECTION
}

# rabbit_start DIR: rabbit_launch + rabbit_await.
rabbit_start() {
  rabbit_launch "$@"
  rabbit_await "$1"
}

# rabbit_env DIR: when the node in DIR runs, export HUB_RABBITMQ_CONNECTION for it (no start).
rabbit_env() {
  if [[ -n "${HUB_RABBITMQ:-}" ]]; then
    export HUB_RABBITMQ_CONNECTION="$HUB_RABBITMQ"
    return 0
  fi
  _rabbit_layout "$1"
  _rabbit_running || return 1
  HUB_RABBITMQ_CONNECTION="$(_rabbit_uri)"
  export HUB_RABBITMQ_CONNECTION
}

# rabbit_stop DIR: stop the node in DIR if it runs (rabbitmqctl shutdown; TERM/KILL as fallback).
rabbit_stop() {
  local dir="${1:?usage: rabbit_stop DIR}"
  [[ -n "${HUB_RABBITMQ:-}" ]] && return 0
  [[ -d "$dir" ]] || return 0
  _rabbit_layout "$dir"
  local pid="" launcher=""
  pid="$(_rabbit_pid || true)"
  [[ -f "$_RB_DIR/launcher.pid" ]] && launcher="$(hub_read_file "$_RB_DIR/launcher.pid")"
  if [[ -z "$pid" ]] && { [[ -z "$launcher" ]] || _hub_gone "$launcher"; }; then
    rm -f "$_RB_DIR/launcher.pid"
    return 0
  fi
  hub_info "RabbitMQ: stopping node $_RB_NODE"
  local port
  port="$(hub_read_file "$_RB_DIR/rabbit.port")"
  # A node that serves AMQP is stopped with rabbitmqctl; one still booting gets SIGTERM (which
  # RabbitMQ also handles as an orderly shutdown) instead of waiting for its boot to finish.
  if [[ -n "$pid" && -n "$port" ]] && hub_port_open "$port"; then
    timeout "$HUB_START_TIMEOUT" "${_RB_CTL[@]}" -q shutdown >/dev/null 2>&1 || true
  fi
  local p
  for p in $pid $launcher; do
    if _hub_alive "$p"; then
      kill -TERM "$p" 2>/dev/null || true
      hub_wait_for "process $p to exit" 20 _hub_gone "$p" || kill -KILL "$p" 2>/dev/null || true
    fi
  done
  rm -f "$_RB_DIR/launcher.pid" "$_RB_PIDFILE"
}

# _hub_alive PID: true while PID runs (a zombie awaiting its parent counts as gone).
_hub_alive() {
  local state=""
  kill -0 "$1" 2>/dev/null || return 1
  [[ -r "/proc/$1/stat" ]] || return 0
  state="$(sed -E 's/^.*\) ([A-Za-z]).*$/\1/' "/proc/$1/stat" 2>/dev/null || true)"
  [[ "$state" != "Z" && "$state" != "X" ]]
}

_hub_gone() { ! _hub_alive "$1"; }

# rabbit_destroy DIR: stop the node and delete its folder (throw-away nodes only).
rabbit_destroy() {
  local dir="${1:?usage: rabbit_destroy DIR}"
  [[ -n "${HUB_RABBITMQ:-}" ]] && return 0
  [[ -d "$dir" ]] || return 0
  rabbit_stop "$dir"
  rm -rf "$dir"
}

#!/usr/bin/env bash
# sparkup's role launcher. sparkup renders it into the cluster's ConfigMap (Kubernetes) or an
# inline config (docker-compose) and runs it with bash, so any image with bash, Java and a Spark
# distribution under $SPARK_HOME can play every role. The first argument picks the role:
#   master                      the standalone master
#   worker <master-url>         a worker that registers with the master
#   submit <spark-submit args>  a client-mode driver (spark-submit)
#   connect [spark-submit args] the Spark Connect server, a client-mode driver that stays up
#   history                     the history server
#   resolve <folder>            the cluster's Java dependencies into <folder>/jars, once
#   await-dependencies <folder> wait until they are there (an init container)
#   health <port> [check]       exit 0 when this container's daemon passes a check (probes):
#                               a path it answers GET on (default /json/), `tcp` (accepts a
#                               connection), `alive` (a master that is ALIVE) or `registered`
#                               (a worker registered with a master)
#   anything else               run as a command
#
# Daemons start through $SPARK_HOME/bin/spark-class, which knows each Spark version's JVM options
# and honours SPARK_DAEMON_MEMORY and SPARK_{DAEMON_JAVA,MASTER,WORKER,HISTORY}_OPTS; it execs
# Java in the foreground, so signals reach the JVM. Every daemon binds its RPC port to and
# advertises this container's own address (POD_IP from the Kubernetes downward API, else the
# address its host name resolves to, as in docker-compose). The web UIs listen on every
# interface, so `kubectl port-forward` (which connects to localhost in the pod) reaches them.
set -euo pipefail

# As a container's first process, run under tini when the image has it: it forwards signals and
# reaps the executor processes a worker leaves behind.
if [[ $$ == 1 ]] && command -v tini >/dev/null 2>&1; then
  exec tini -- bash "${BASH_SOURCE[0]}" "$@"
fi

die() {
  echo "sparkup: $*" >&2
  exit 64
}

SPARK_HOME=${SPARK_HOME:-/opt/spark}
export SPARK_HOME
[[ -x "$SPARK_HOME/bin/spark-class" ]] ||
  die "no Spark distribution at SPARK_HOME=$SPARK_HOME ($SPARK_HOME/bin/spark-class is missing)"

own_address() {
  if [[ -n "${POD_IP:-}" ]]; then
    echo "$POD_IP"
    return
  fi
  local address
  address=$(getent hosts "$(hostname)" | awk '{ print $1; exit }')
  [[ -n "$address" ]] || die "POD_IP is not set and $(hostname) does not resolve to an address"
  echo "$address"
}

ADDRESS=$(own_address)
# In Kubernetes this arrives as $(POD_IP), already expanded; elsewhere it is the address.
export SPARK_PUBLIC_DNS=${SPARK_PUBLIC_DNS:-$ADDRESS}
# Spark names its own host by this address rather than by resolving the host name (a lookup
# that fails where the host name is not in DNS, and a name other pods could not resolve).
export SPARK_LOCAL_HOSTNAME=${SPARK_LOCAL_HOSTNAME:-$ADDRESS}

# The master and the workers compute little themselves (executors are JVMs of their own, started
# with the application's options), so they run with the client compiler alone: on a busy node
# they start about a third sooner. SPARKUP_DAEMON_JAVA_OPTS set (even empty) replaces that.
daemon_java_opts() {
  printf '%s' "${SPARKUP_DAEMON_JAVA_OPTS--XX:TieredStopAtLevel=1}"
}

role_master() {
  private_conf
  local ui=${SPARK_MASTER_WEBUI_PORT:-8080}
  SPARK_MASTER_OPTS="${SPARK_MASTER_OPTS:-} $(daemon_java_opts)$(https_opts standalone "$ui")"
  export SPARK_MASTER_OPTS
  exec "$SPARK_HOME/bin/spark-class" org.apache.spark.deploy.master.Master \
    --host "$ADDRESS" \
    --port "${SPARK_MASTER_PORT:-7077}" \
    --webui-port "$(plain_port "$ui")"
}

# With HTTPS on (spark.ssl.enabled), Spark's Jetty serves HTTPS on spark.ssl.<namespace>.port and
# only a redirect to it on the UI's plain port. Each UI keeps the port it always had, now for
# HTTPS (so Services, probes and policies keep their numbers); the redirect moves 400 up, where
# Spark itself would have put HTTPS.
tls_ui() {
  [[ "$(conf_value spark.ssl.enabled)" == true ]]
}

plain_port() {
  if tls_ui; then echo $(($1 + 400)); else echo "$1"; fi
}

# The JVM option (after a space) that puts a UI's HTTPS on port $2, for the namespace $1.
https_opts() {
  if tls_ui; then printf -- ' -Dspark.ssl.%s.port=%s' "$1" "$2"; fi
}

role_worker() {
  [[ $# -eq 1 ]] || die "usage: worker <master-url>, e.g. worker spark://spark-master:7077"
  local gpus
  gpus=$(gpu_opts)
  wait_for_master "$1"
  private_conf
  local ui=${SPARK_WORKER_WEBUI_PORT:-8081}
  SPARK_WORKER_OPTS="${SPARK_WORKER_OPTS:-} $(daemon_java_opts)$(https_opts standalone "$ui")$gpus"
  export SPARK_WORKER_OPTS
  local -a command=("$SPARK_HOME/bin/spark-class" org.apache.spark.deploy.worker.Worker
    --host "$ADDRESS"
    --port "${SPARK_WORKER_PORT:-7078}"
    --webui-port "$(plain_port "$ui")")
  if [[ -n "${SPARK_WORKER_CORES:-}" ]]; then command+=(--cores "$SPARK_WORKER_CORES"); fi
  if [[ -n "${SPARK_WORKER_MEMORY:-}" ]]; then command+=(--memory "$SPARK_WORKER_MEMORY"); fi
  if [[ -n "${SPARK_WORKER_DIR:-}" ]]; then command+=(--work-dir "$SPARK_WORKER_DIR"); fi
  command+=("$1")
  if [[ "${SPARK_WORKER_DECOMMISSION:-false}" != true ]]; then
    exec "${command[@]}"
  fi
  # Decommissioning moves cached and shuffle blocks off a worker before it goes. Kubernetes says
  # "go" with SIGTERM, so the worker decommissions on that rather than Spark's default SIGPWR;
  # a decommissioned worker stays up, so once its executors have gone (their blocks moved) it is
  # stopped here, instead of the pod waiting out its whole grace period.
  export SPARK_WORKER_OPTS="${SPARK_WORKER_OPTS:-} -Dspark.decommission.enabled=true -Dspark.worker.decommission.signal=TERM"
  "${command[@]}" &
  WORKER_PID=$!
  trap decommission TERM
  while kill -0 "$WORKER_PID" 2>/dev/null; do
    wait "$WORKER_PID" || true
  done
  wait "$WORKER_PID"
}

# A worker with GPUs (SPARKUP_WORKER_GPUS) offers them to executors: the JVM options (after a
# space) with how many and the script that lists their addresses, which Spark runs itself. That
# is the image's SPARKUP_GPU_DISCOVERY_SCRIPT, or sparkup's own beside this launcher, copied to
# an executable file in scratch space (a ConfigMap's files are not executable). Checked before
# the worker starts, so a missing script is this message rather than an executor that never
# comes.
gpu_opts() {
  local gpus=${SPARKUP_WORKER_GPUS:-0} script=${SPARKUP_GPU_DISCOVERY_SCRIPT:-} dir
  [[ "$gpus" =~ ^[0-9]+$ ]] || die "SPARKUP_WORKER_GPUS=$gpus: expected a number of GPUs"
  ((10#$gpus > 0)) || return 0
  if [[ -n "$script" ]]; then
    [[ -f "$script" && -x "$script" ]] ||
      die "the GPU discovery script $script (workers.gpuDiscoveryScript) is not an executable file in this image"
  else
    local builtin="${BASH_SOURCE[0]%/*}/discover-gpus.sh"
    [[ -r "$builtin" ]] || die "sparkup's GPU discovery script is missing beside the launcher ($builtin)"
    dir=$(umask 077 && mktemp -d "${TMPDIR:-/tmp}/sparkup-gpus.XXXXXX") ||
      die "cannot create a folder for the GPU discovery script"
    script="$dir/discover-gpus.sh"
    { cp "$builtin" "$script" && chmod 700 "$script"; } ||
      die "cannot make an executable copy of the GPU discovery script in $dir"
  fi
  printf -- ' -Dspark.worker.resource.gpu.amount=%s -Dspark.worker.resource.gpu.discoveryScript=%s' \
    "$((10#$gpus))" "$script"
}

# A worker or driver that finds no master waits out Spark's registration back-off (5 to 15 s,
# randomised) before it tries again; so it starts only once one of the master URL's addresses
# accepts a connection. Through the master's Service that means a master pod that is ready
# (ALIVE): until then the Service has no endpoint and refuses at once. Costs one connection
# when the master is up.
wait_for_master() {
  local url=$1 address tries=0
  local -a addresses
  IFS=, read -ra addresses <<<"${url#spark://}"
  while :; do
    for address in "${addresses[@]}"; do
      if accepts "${address%:*}" "${address##*:}"; then return 0; fi
    done
    if ((tries % 20 == 0)); then
      echo "sparkup: waiting for the master at $url to accept connections" >&2
    fi
    tries=$((tries + 1))
    sleep 0.5
  done
}

# Whether host:port accepts a TCP connection, giving up after 2 s where `timeout` exists.
accepts() {
  if command -v timeout >/dev/null 2>&1; then
    # shellcheck disable=SC2016 # the inner shell expands them
    timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null
  else
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
  fi
}

# The value of a property in the role's spark-defaults.conf (the last one wins, as in Spark).
conf_value() {
  local file=${SPARK_CONF_DIR:-$SPARK_HOME/conf}/spark-defaults.conf key value found=
  [[ -r "$file" ]] || return 0
  while read -r key value; do
    if [[ "$key" == "$1" ]]; then found=$value; fi
  done <"$file"
  printf '%s' "$found"
}

# On SIGTERM: pass it on, wait until the worker runs no executor, then stop it.
decommission() {
  trap - TERM
  kill -TERM "$WORKER_PID" 2>/dev/null || return 0
  local port=${SPARK_WORKER_WEBUI_PORT:-8081} body
  while kill -0 "$WORKER_PID" 2>/dev/null; do
    sleep 1
    body=$(ui_get "$port" /json/) || continue
    if [[ $body =~ \"coresused\"[[:space:]]*:[[:space:]]*0([^0-9]|$) ]]; then
      echo "sparkup: decommissioned worker runs no executor: stopping it" >&2
      # HUP, since a background job of a non-interactive shell ignores INT.
      kill -HUP "$WORKER_PID" 2>/dev/null || true
      return 0
    fi
  done
}

# GET $2 from this container's UI on port $1 and print the body; fails unless the answer is
# 200. Plain HTTP with nothing but bash; with HTTPS on (spark.ssl.enabled), curl or wget.
ui_get() {
  if tls_ui; then
    https_get "$1" "$2"
    return
  fi
  exec 3<>"/dev/tcp/$ADDRESS/$1" || return 1
  printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' "$2" "$ADDRESS" >&3
  local status line cr=$'\r'
  read -r -t 5 _ status _ <&3 || return 1
  [[ "$status" == 200 ]] || return 1
  # The headers end at an empty line.
  while IFS= read -r -t 5 line <&3 && [[ -n "${line%"$cr"}" ]]; do :; done
  while IFS= read -r -t 5 line <&3; do printf '%s\n' "$line"; done
  exec 3<&-
}

# The event log folder on a claim exists before a driver or the history server needs it.
event_log_dir() {
  local dir=${SPARKUP_EVENT_LOG_DIR:-}
  if [[ -n "$dir" && "$dir" != *://* ]]; then
    mkdir -p "$dir" || die "cannot create the event log folder $dir"
  fi
}

# When a scheduled run was due, for applications that process "since the last run": a CronJob
# names each Job <cronjob>-<scheduled minute since the epoch>, and the pod carries that name in
# SPARKUP_JOB_NAME; any other run was due now. ISO 8601, UTC.
scheduled_time() {
  local seconds
  if [[ "${SPARKUP_JOB_NAME:-}" =~ -([0-9]{7,})(-[a-z0-9]{1,8})?$ ]]; then
    seconds=$((10#${BASH_REMATCH[1]} * 60))
  else
    seconds=$(date +%s)
  fi
  date -u -d "@$seconds" +%Y-%m-%dT%H:%M:%SZ
}

# A driver on a standalone cluster reads Spark's shared secret only from its configuration
# (spark.authenticate.secret), not from the environment as the daemons do; and credentials that
# Spark reads as properties (secretConf: S3 keys, keystore passwords) arrive as variables from
# their Secrets. So every role gets a private copy of the configuration folder, in its own
# scratch space and readable by it alone, with those values added by shell builtins: they are in
# no ConfigMap and no process argument. The secretConf variables are then unset, so executors
# and other children do not inherit them.
private_conf() {
  local auth=${1:-}
  [[ -n "$auth" && -n "${_SPARK_AUTH_SECRET:-}" ]] || [[ -n "${SPARKUP_SECRET_CONF:-}" ]] ||
    return 0
  local from=${SPARK_CONF_DIR:-$SPARK_HOME/conf} dir i=0 key
  dir=$(umask 077 && mktemp -d "${TMPDIR:-/tmp}/sparkup-conf.XXXXXX") ||
    die "cannot create a private configuration folder"
  if compgen -G "$from/*" >/dev/null; then
    cp -L "$from"/* "$dir"/
  fi
  private_lines "$auth" >>"$dir/spark-defaults.conf"
  chmod 600 "$dir"/*
  for key in ${SPARKUP_SECRET_CONF:-}; do
    unset "SPARKUP_SECRET_CONF_$i"
    i=$((i + 1))
  done
  unset SPARKUP_SECRET_CONF
  export SPARK_CONF_DIR=$dir
}

# The private lines: the shared secret for a driver ($1 set), then every secretConf property.
private_lines() (
  umask 077
  local n=0 key
  if [[ -n "$1" && -n "${_SPARK_AUTH_SECRET:-}" ]]; then
    conf_line spark.authenticate.secret _SPARK_AUTH_SECRET
  fi
  for key in ${SPARKUP_SECRET_CONF:-}; do
    conf_line "$key" "SPARKUP_SECRET_CONF_$n"
    n=$((n + 1))
  done
)

# One `key value` line of spark-defaults.conf from the variable named $2, as sparkup writes the
# ConfigMap's (a backslash doubled); a value that would break the line is refused, unseen.
conf_line() {
  local value=${!2:-}
  [[ -n "$value" ]] || die "$1: $2 is empty: the key of its Secret is missing or empty"
  [[ "$value" != *[[:cntrl:]]* ]] ||
    die "$1: the value from its Secret ($2) holds a control character: a spark-defaults.conf entry is one line"
  printf '%s %s\n' "$1" "${value//\\/\\\\}"
}

role_submit() {
  event_log_dir
  private_conf auth
  SPARKUP_SCHEDULED_TIME=$(scheduled_time)
  export SPARKUP_SCHEDULED_TIME
  local ui
  ui=$(conf_value spark.ui.port)
  ui=${ui:-4040}
  local -a https=()
  if tls_ui; then
    https=(--conf "spark.ssl.ui.port=$ui" --conf "spark.ui.port=$(plain_port "$ui")")
  fi
  # Executors connect back to a client-mode driver: it must advertise an address they can reach,
  # on fixed ports that a network policy can name.
  exec "$SPARK_HOME/bin/spark-submit" \
    --conf "spark.driver.host=$ADDRESS" \
    --conf "spark.driver.bindAddress=$ADDRESS" \
    --conf "spark.driver.port=${SPARK_DRIVER_PORT:-7079}" \
    --conf "spark.blockManager.port=${SPARK_BLOCKMANAGER_PORT:-7080}" \
    --conf "spark.sparkup.scheduledTime=$SPARKUP_SCHEDULED_TIME" \
    "${https[@]}" \
    "$@"
}

role_connect() {
  # The server starts with the cluster: it registers once the master accepts.
  local master
  master=$(conf_value spark.master)
  if [[ "$master" == spark://* ]]; then wait_for_master "$master"; fi
  # spark-submit recognises the server's class and needs no application resource.
  role_submit \
    --class org.apache.spark.sql.connect.service.SparkConnectServer \
    --name "Spark Connect server" \
    --conf "spark.connect.grpc.binding.port=${SPARK_CONNECT_PORT:-15002}" \
    "$@"
}

role_history() {
  event_log_dir
  private_conf
  local ui
  ui=$(conf_value spark.history.ui.port)
  ui=${ui:-18080}
  if tls_ui; then
    SPARK_HISTORY_OPTS="${SPARK_HISTORY_OPTS:-}$(https_opts historyServer "$ui") -Dspark.history.ui.port=$(plain_port "$ui")"
    export SPARK_HISTORY_OPTS
  fi
  exec "$SPARK_HOME/bin/spark-class" org.apache.spark.deploy.history.HistoryServer
}

# An HTTP GET on this container's address, or only a connection, with nothing but bash. `alive`
# and `registered` read the daemon's /json/: a master is ready when ALIVE (not while it recovers
# or stands by), a worker once a master accepted it.
role_health() {
  [[ $# -eq 1 || $# -eq 2 ]] || die "usage: health <port> [path|tcp|alive|registered]"
  local check=${2:-/json/} path=/json/ pattern='' body
  case "$check" in
    tcp) ;;
    alive) pattern='"status"[[:space:]]*:[[:space:]]*"ALIVE"' ;;
    registered) pattern='"masterurl"[[:space:]]*:[[:space:]]*"spark://' ;;
    /*) path=$check ;;
    *) die "health: $check is no check: a path, tcp, alive or registered" ;;
  esac
  if [[ "$check" == tcp ]]; then
    exec 3<>"/dev/tcp/$ADDRESS/$1" || exit 1
    exit 0
  fi
  body=$(ui_get "$1" "$path") || exit 1
  [[ -z "$pattern" || $body =~ $pattern ]]
}

# GET https://<this container>:$1$2 and print the body; fails unless the answer is a success.
# The certificate is not checked: this is the container's own daemon at its own address (which
# a certificate rarely names), asked for its state, as the kubelet's HTTPS probes do.
https_get() {
  local url="https://$ADDRESS:$1$2"
  if command -v curl >/dev/null 2>&1; then
    curl -sfk --max-time 5 "$url"
  elif command -v wget >/dev/null 2>&1; then
    wget -q -O - -T 5 --no-check-certificate "$url"
  else
    echo "sparkup: HTTPS UIs need curl or wget in the image for the health checks" >&2
    return 1
  fi
}

# resolve <folder>: the cluster's Java dependencies into <folder>/jars, once. Maven packages
# ($SPARKUP_PACKAGES, searched in $SPARKUP_REPOSITORIES too) through Spark's own resolver (Ivy),
# jars ($SPARKUP_JARS) downloaded or copied; all comma-separated. The folder appears complete,
# with its list of jars in `complete`, or not at all; a folder that is there is left alone.
role_resolve() {
  local dir=${1:?resolve needs a folder}
  if [[ -f "$dir/complete" ]]; then
    echo "sparkup: dependencies already resolved in $dir"
    return 0
  fi
  local work="$dir.partial-$ADDRESS" jar jars=()
  rm -rf "$work"
  mkdir -p "$work/jars"
  if [[ -n "${SPARKUP_PACKAGES:-}" ]]; then
    local args=(--master 'local[1]' --packages "$SPARKUP_PACKAGES" --conf "spark.jars.ivy=$work/ivy")
    [[ -z "${SPARKUP_REPOSITORIES:-}" ]] || args+=(--repositories "$SPARKUP_REPOSITORIES")
    echo "sparkup: resolving $SPARKUP_PACKAGES"
    # SparkSubmit's --version as the application: resolve the packages, print a version, exit.
    "$SPARK_HOME/bin/spark-submit" "${args[@]}" --class org.apache.spark.deploy.SparkSubmit \
      spark-internal --version >/dev/null ||
      die "could not resolve $SPARKUP_PACKAGES (repositories: ${SPARKUP_REPOSITORIES:-Maven Central}); Ivy's report is above"
    cp "$work/ivy/jars/"*.jar "$work/jars/"
    rm -rf "$work/ivy"
  fi
  IFS=, read -r -a jars <<<"${SPARKUP_JARS:-}"
  for jar in "${jars[@]}"; do
    case "$jar" in
      http://* | https://*) fetch "$jar" "$work/jars/${jar##*/}" || die "could not download $jar" ;;
      *) cp "$jar" "$work/jars/" || die "could not copy $jar" ;;
    esac
  done
  (cd "$work/jars" && ls) >"$work/complete"
  # Another resolver may have finished first: its folder is as good as this one.
  mv -T "$work" "$dir" 2>/dev/null || [[ -f "$dir/complete" ]] || die "could not move $work to $dir"
  rm -rf "$work"
  echo "sparkup: resolved $(wc -l <"$dir/complete") jar(s) into $dir"
}

fetch() {
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL --retry 3 -o "$2" "$1"
  elif command -v wget >/dev/null 2>&1; then
    wget -q -O "$2" "$1"
  else
    echo "sparkup: downloading jars needs curl or wget in the image" >&2
    return 1
  fi
}

# await-dependencies <folder>: wait until the resolver Job has put the dependencies there.
role_await_dependencies() {
  local dir=${1:?await-dependencies needs a folder} waited=0
  until [[ -f "$dir/complete" ]]; do
    if ((waited % 30 == 0)); then
      echo "sparkup: waiting for the cluster's dependencies in $dir (a Job resolves them; sparkup apply and status say how it goes)"
    fi
    sleep 2
    waited=$((waited + 2))
  done
  echo "sparkup: dependencies in $dir: $(tr '\n' ' ' <"$dir/complete")"
}

role=${1:-}
[[ -n "$role" ]] || die "usage: sparkup.sh master|worker <url>|submit <args>|connect [args]|history|health <port> [check]|<command>"
shift
case "$role" in
  master) role_master "$@" ;;
  worker) role_worker "$@" ;;
  submit) role_submit "$@" ;;
  connect) role_connect "$@" ;;
  history) role_history "$@" ;;
  health) role_health "$@" ;;
  resolve) role_resolve "$@" ;;
  await-dependencies) role_await_dependencies "$@" ;;
  *) exec "$role" "$@" ;;
esac

#!/usr/bin/env bash
# One image, every Spark role. The first argument picks the role:
#   master                      the standalone master
#   worker <master-url>         a worker that registers with the master
#   submit <spark-submit args>  a client-mode driver (spark-submit)
#   history                     the history server
#   health <port>               exit 0 when this container's daemon answers on <port> (for probes)
#   anything else               run as a command
#
# Each role execs Java in the foreground (no daemon scripts), so signals reach the JVM and the
# container's lifetime is the daemon's. Every daemon binds to and advertises this container's own
# address: POD_IP from the Kubernetes downward API, else the address its host name resolves to
# (docker-compose gives each container its own address on the compose network).
set -euo pipefail

SPARK_HOME=${SPARK_HOME:-/opt/spark}
SPARK_CONF_DIR=${SPARK_CONF_DIR:-$SPARK_HOME/conf}
# Java is started directly, not through spark-class, so what spark-class would work out is set
# here: executors launched by a worker fail with "Cannot find any build directories" without it.
export SPARK_HOME SPARK_CONF_DIR
export SPARK_SCALA_VERSION=${SPARK_SCALA_VERSION:-2.13}
JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java

# The module options Spark's launcher adds for Java 17.
MODULE_OPTS=(
  -XX:+IgnoreUnrecognizedVMOptions
  --add-modules=jdk.incubator.vector
  --add-opens=java.base/java.lang=ALL-UNNAMED
  --add-opens=java.base/java.lang.invoke=ALL-UNNAMED
  --add-opens=java.base/java.lang.reflect=ALL-UNNAMED
  --add-opens=java.base/java.io=ALL-UNNAMED
  --add-opens=java.base/java.net=ALL-UNNAMED
  --add-opens=java.base/java.nio=ALL-UNNAMED
  --add-opens=java.base/java.util=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED
  --add-opens=java.base/jdk.internal.ref=ALL-UNNAMED
  --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens=java.base/sun.nio.cs=ALL-UNNAMED
  --add-opens=java.base/sun.security.action=ALL-UNNAMED
  --add-opens=java.base/sun.util.calendar=ALL-UNNAMED
  --add-opens=java.security.jgss/sun.security.krb5=ALL-UNNAMED
  -Dio.netty.tryReflectionSetAccessible=true
)

die() {
  echo "entrypoint: $*" >&2
  exit 64
}

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
# In Kubernetes these arrive as $(POD_IP), already expanded; elsewhere they default to the address.
export SPARK_PUBLIC_DNS=${SPARK_PUBLIC_DNS:-$ADDRESS}
export SPARK_LOCAL_IP=${SPARK_LOCAL_IP:-$ADDRESS}

# run_java HEAP OPTIONS-STRING MAIN-CLASS ARGS...: OPTIONS-STRING is split on white space, as
# spark-class splits SPARK_*_OPTS; spark-defaults.conf is on the class path through the conf dir.
run_java() {
  local heap=$1 options=$2 class=$3
  shift 3
  local -a extra=()
  read -r -a extra <<<"$options" || true
  exec "$JAVA" -cp "$SPARK_CONF_DIR:$SPARK_HOME/jars/*" "-Xmx$heap" "${MODULE_OPTS[@]}" \
    "${extra[@]}" "$class" "$@"
}

role_master() {
  run_java "${SPARK_DAEMON_MEMORY:-1g}" "${SPARK_DAEMON_JAVA_OPTS:-} ${SPARK_MASTER_OPTS:-}" \
    org.apache.spark.deploy.master.Master \
    --host "$ADDRESS" \
    --port "${SPARK_MASTER_PORT:-7077}" \
    --webui-port "${SPARK_MASTER_WEBUI_PORT:-8080}"
}

role_worker() {
  [[ $# -eq 1 ]] || die "usage: worker <master-url>, e.g. worker spark://spark-master:7077"
  local options="${SPARK_DAEMON_JAVA_OPTS:-} ${SPARK_WORKER_OPTS:-}"
  # Decommissioning moves cached and shuffle blocks off a worker before it goes; Kubernetes says
  # "go" with SIGTERM, so the worker listens for that rather than Spark's default SIGPWR.
  if [[ "${SPARK_WORKER_DECOMMISSION:-false}" == true ]]; then
    options+=" -Dspark.decommission.enabled=true -Dspark.worker.decommission.signal=TERM"
  fi
  local -a sizing=()
  [[ -n "${SPARK_WORKER_CORES:-}" ]] && sizing+=(--cores "$SPARK_WORKER_CORES")
  [[ -n "${SPARK_WORKER_MEMORY:-}" ]] && sizing+=(--memory "$SPARK_WORKER_MEMORY")
  [[ -n "${SPARK_WORKER_DIR:-}" ]] && sizing+=(--work-dir "$SPARK_WORKER_DIR")
  run_java "${SPARK_DAEMON_MEMORY:-1g}" "$options" \
    org.apache.spark.deploy.worker.Worker \
    --host "$ADDRESS" \
    --port "${SPARK_WORKER_PORT:-7078}" \
    --webui-port "${SPARK_WORKER_WEBUI_PORT:-8081}" \
    "${sizing[@]}" "$1"
}

role_submit() {
  # Executors connect back to a client-mode driver: it must advertise an address they can reach,
  # on fixed ports that a network policy can name.
  run_java "${SPARK_DRIVER_MEMORY:-1g}" "${SPARK_SUBMIT_OPTS:-}" \
    org.apache.spark.deploy.SparkSubmit \
    --conf "spark.driver.host=$ADDRESS" \
    --conf "spark.driver.bindAddress=$ADDRESS" \
    --conf "spark.driver.port=${SPARK_DRIVER_PORT:-7079}" \
    --conf "spark.blockManager.port=${SPARK_BLOCKMANAGER_PORT:-7080}" \
    "$@"
}

role_history() {
  run_java "${SPARK_DAEMON_MEMORY:-1g}" "${SPARK_DAEMON_JAVA_OPTS:-} ${SPARK_HISTORY_OPTS:-}" \
    org.apache.spark.deploy.history.HistoryServer
}

# An HTTP GET of /json/ on this container's address, with nothing but bash.
role_health() {
  [[ $# -eq 1 ]] || die "usage: health <port>"
  local status
  exec 3<>"/dev/tcp/$ADDRESS/$1" || exit 1
  printf 'GET /json/ HTTP/1.0\r\nHost: %s\r\n\r\n' "$ADDRESS" >&3
  read -r -t 5 _ status _ <&3 || exit 1
  [[ "$status" == 200 ]]
}

role=${1:-}
[[ -n "$role" ]] || die "usage: entrypoint.sh master|worker <url>|submit <args>|history|health <port>|<command>"
shift
case "$role" in
  master) role_master "$@" ;;
  worker) role_worker "$@" ;;
  submit) role_submit "$@" ;;
  history) role_history "$@" ;;
  health) role_health "$@" ;;
  *) exec "$role" "$@" ;;
esac

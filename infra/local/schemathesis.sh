#!/usr/bin/env bash
# Schemathesis against infra/openapi.yaml on the running local stack, as a student of the
# mini-program: generated and mutated requests for every operation (staff routes answer
# their documented 401), checking that nothing answers 5xx and that every answer's status,
# content type and body are the documented ones. Run by `make test`; the figures it prints
# are the cases run. Environment: the stack's (.local/stack.env).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ST=$ROOT/.tools/st/bin/st
EXAMPLES=${SCHEMATHESIS_EXAMPLES:-20}

# A student's token, as the mini-program gets one: a wx.login code from the fake WeChat.
code=$(curl -fsS -X POST -H 'content-type: application/json' -d '{}' "$FAKE_WECHAT_URL/_fake/login-codes" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["code"])')
token=$(curl -fsS -X POST -H 'content-type: application/json' -d "{\"code\":\"$code\"}" "$API_URL/v1/session" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')

# Its crash cache (`.schemathesis/`) goes with the rest of the local state.
mkdir -p "$ROOT/.local" && cd "$ROOT/.local"
exec "$ST" run "$ROOT/infra/openapi.yaml" --url "$API_URL" \
  -H "Authorization: Bearer $token" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --max-examples "$EXAMPLES" --workers 2 --no-color \
  --seed "${SCHEMATHESIS_SEED:-20261202}" --report junit --report-dir "$ROOT/.local/schemathesis"

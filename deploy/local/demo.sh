#!/usr/bin/env bash
# Creates a demo tenant, a simulated SaaS workspace and one integration per simulated
# service, then prints what to try next. Expects `provisioner serve` and
# `provisioner sim` to be running (make run starts them).
set -euo pipefail

bin=${PROVISIONER_BIN:-target/debug/provisioner}
api=${API_URL:-http://127.0.0.1:8080}
sim=${SIM_URL:-http://127.0.0.1:9090}

tenant_json=$("$bin" tenants create --name "Demo Company")
token=$(printf '%s' "$tenant_json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')

sim_token="demo-scim-token-$RANDOM$RANDOM"
curl -fsS -X PUT "$sim/_sim/workspaces/demo" -H 'content-type: application/json' \
    -d "{\"token\": \"$sim_token\"}" >/dev/null

integration_json=$(curl -fsS -X POST "$api/v1/integrations" \
    -H "authorization: Bearer $token" -H 'content-type: application/json' \
    -d "{\"service\": \"scim\", \"workspace\": \"demo\", \"base_url\": \"$sim/scim/demo/v2\", \"credentials\": {\"token\": \"$sim_token\"}}")
integration_id=$(printf '%s' "$integration_json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')

cat <<TXT

provisioner is running: api $api, SaaS simulator $sim
Demo tenant token (every scope):

  export TOKEN=$token

Try:

  # 1. the services, and which of them can provision
  curl -s $api/v1/services -H "authorization: Bearer \$TOKEN"

  # 2. ask for an account on the demo SCIM workspace (answers 202 with the request id)
  curl -s -X POST $api/v1/provisioning-requests -H "authorization: Bearer \$TOKEN" \\
       -H 'content-type: application/json' \\
       -d '{"integration_id": "$integration_id", "account": {"user_name": "ada", "email": "ada@example.com", "given_name": "Ada", "family_name": "Lovelace"}}'

  # 3. the integration log, filtered to account creation
  curl -s "$api/v1/integration-log?action=create" -H "authorization: Bearer \$TOKEN"

Follow one request with: curl -s $api/v1/provisioning-requests/<id> -H "authorization: Bearer \$TOKEN"
Logs: .run/serve.log and .run/sim.log.   Stop everything: make stop
TXT

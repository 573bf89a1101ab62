#!/usr/bin/env python3
"""Creates a demo tenant, one simulated workspace per service the simulator speaks, and
an integration for each, then prints what to try next. Expects `provisioner serve` and
`provisioner sim` to be running (make run starts them)."""

import json
import os
import secrets
import subprocess
import sys
import urllib.error
import urllib.request

BIN = os.environ.get("PROVISIONER_BIN", "target/debug/provisioner")
API = os.environ.get("API_URL", "http://127.0.0.1:8080")
SIM = os.environ.get("SIM_URL", "http://127.0.0.1:9090")
FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures", "google")


def call(method, url, body=None, token=None):
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, method=method, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request) as response:
            text = response.read()
            return json.loads(text) if text else None
    except urllib.error.HTTPError as error:
        sys.exit(f"{method} {url} answered {error.code}: {error.read().decode()}")


def read(name):
    with open(os.path.join(FIXTURES, name)) as f:
        return f.read()


def main():
    tenant = json.loads(subprocess.run([BIN, "tenants", "create", "--name", "Demo Company"],
                                       check=True, capture_output=True, text=True).stdout)
    token = tenant["token"]
    suffix = secrets.token_hex(4)
    scim_token = f"demo-scim-{suffix}"
    slack_token = f"xoxp-demo-{suffix}"
    github_token = f"ghp_demo{suffix}"
    google_account = f"provisioner-{suffix}@demo.iam.gserviceaccount.com"
    # (simulator workspace, its setup, service, workspace name, base path, credentials)
    workspaces = [
        ("demo", {"token": scim_token}, "scim", "demo", "/scim/demo/v2", {"token": scim_token}),
        (f"slack-{suffix}", {"vendor": "slack", "token": slack_token},
         "slack", "demo-slack", "/scim/v2", {"token": slack_token}),
        (f"github-{suffix}", {"vendor": "github", "token": github_token, "org": f"demo-{suffix}"},
         "github", f"demo-{suffix}", "", {"token": github_token}),
        (f"zoom-{suffix}", {"vendor": "zoom", "account_id": f"acct-{suffix}", "client_id": "demo",
                             "client_secret": suffix},
         "zoom", "demo-zoom", "/v2",
         {"account_id": f"acct-{suffix}", "client_id": "demo", "client_secret": suffix}),
        (f"m365-{suffix}", {"vendor": "microsoft", "tenant_id": f"demo-{suffix}", "client_id": "demo",
                             "client_secret": suffix},
         "microsoft365", f"demo-{suffix}", "/v1.0",
         {"tenant_id": f"demo-{suffix}", "client_id": "demo", "client_secret": suffix}),
        (f"google-{suffix}", {"vendor": "google", "client_email": google_account,
                               "public_key_pem": read("test-service-account-key.pub.pem"),
                               "customer_id": f"C{suffix}", "domain": "demo.example"},
         "google", "demo.example", "/admin/directory/v1",
         {"service_account": {"type": "service_account", "client_email": google_account,
                              "private_key": read("test-service-account-key.pem"),
                              "token_uri": f"{SIM}/token"},
          "subject": "admin@demo.example", "customer": f"C{suffix}"}),
    ]
    integrations = {}
    for sim_workspace, setup, service, workspace, base_path, credentials in workspaces:
        call("PUT", f"{SIM}/_sim/workspaces/{sim_workspace}", setup)
        created = call("POST", f"{API}/v1/integrations", {
            "service": service, "workspace": workspace, "base_url": f"{SIM}{base_path}",
            "credentials": credentials}, token)
        integrations[service] = created
    scim_id = integrations["scim"]["id"]
    listing = "\n".join(f"  {service:<13} {i['id']}  status {i['status']}"
                        for service, i in integrations.items())
    print(f"""
provisioner is running: api {API}, SaaS simulator {SIM}
Console: open {API}/ in a browser and paste the token below.
Demo tenant token (every scope):

  export TOKEN={token}

Integrations, one per simulated service:
{listing}

Try:

  # 1. the services, and which of them can provision
  curl -s {API}/v1/services -H "authorization: Bearer $TOKEN"

  # 2. ask for an account on the demo SCIM workspace (answers 202 with the request id)
  curl -s -X POST {API}/v1/provisioning-requests -H "authorization: Bearer $TOKEN" \\
       -H 'content-type: application/json' \\
       -d '{{"integration_id": "{scim_id}", "account": {{"user_name": "ada", "email": "ada@example.com", "given_name": "Ada", "family_name": "Lovelace"}}}}'

  # 3. the integration log, filtered to account creation
  curl -s "{API}/v1/integration-log?action=create" -H "authorization: Bearer $TOKEN"

Follow one request with: curl -s {API}/v1/provisioning-requests/<id> -H "authorization: Bearer $TOKEN"
Logs: .run/serve.log and .run/sim.log.   Stop everything: make stop""")


if __name__ == "__main__":
    main()

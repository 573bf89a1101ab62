#!/usr/bin/env bash
# Makes sure PostgreSQL and RabbitMQ run locally and that the `provisioner` database role
# exists. Installs both from Debian's packages when they are missing and we are root;
# otherwise prints the one command that does.
set -euo pipefail

say() { printf '==> %s\n' "$*" >&2; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for_port() {
    local port=$1 name=$2
    for _ in $(seq 1 120); do
        port_open "$port" && return 0
        sleep 0.5
    done
    say "$name did not open port $port within 60 s"
    exit 1
}

missing=()
command -v pg_ctlcluster >/dev/null || missing+=(postgresql postgresql-client)
command -v rabbitmq-server >/dev/null || missing+=(rabbitmq-server)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
        say "installing ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        say "PostgreSQL and RabbitMQ are needed. Install them with:"
        say "  sudo apt-get install -y ${missing[*]}"
        exit 1
    fi
fi

if ! port_open 5432; then
    say "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n1)" main start
    wait_for_port 5432 PostgreSQL
fi

if ! port_open 5672; then
    say "starting RabbitMQ"
    rabbitmq-server -detached >/dev/null 2>&1 || true
    wait_for_port 5672 RabbitMQ
fi

# A role of our own, so nothing depends on how the postgres superuser authenticates.
role_ok() { PGPASSWORD=provisioner psql -h 127.0.0.1 -U provisioner -d postgres -Atqc 'select 1' >/dev/null 2>&1; }
if ! role_ok; then
    say "creating the PostgreSQL role 'provisioner'"
    sql="DO \$\$ BEGIN
           IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'provisioner') THEN
             CREATE ROLE provisioner LOGIN PASSWORD 'provisioner' CREATEDB;
           ELSE
             ALTER ROLE provisioner LOGIN PASSWORD 'provisioner' CREATEDB;
           END IF;
         END \$\$;"
    if [ "$(id -u)" -eq 0 ] && id postgres >/dev/null 2>&1; then
        runuser -u postgres -- psql -v ON_ERROR_STOP=1 -qc "$sql" >/dev/null
    else
        psql -h 127.0.0.1 -U postgres -d postgres -v ON_ERROR_STOP=1 -qc "$sql" >/dev/null
    fi
    role_ok || { say "the role 'provisioner' still cannot log in over TCP; check pg_hba.conf"; exit 1; }
fi

//! End-to-end tests: the real components against real PostgreSQL and RabbitMQ, with the
//! SaaS simulator on the other side. Each test has its own database and broker names.

mod access;
mod behind_the_api;
mod chaos;
mod cli;
mod console;
mod deploy;
mod employees;
mod github;
mod google;
mod helpers;
mod hostile;
mod hr;
mod idempotency;
mod integration_errors;
mod integration_log;
mod metrics;
mod microsoft;
mod no_secrets_in_logs;
mod openapi;
mod outage;
mod pacing;
mod poison;
mod processes;
mod provisioning;
mod replays;
mod retries;
mod scale_out;
mod secrets;
mod shutdown;
mod slack;
mod tenancy;
mod tokens;
mod trace_context;
mod validation;
mod zoom;

// Vigil's settings: defaults, then the TOML file, then VIGIL_* environment, then flags.
//
// Every setting has a dotted key ("server.listen") used in the file ([server] listen = ...)
// and by flags, and an environment variable VIGIL_<SECTION>_<KEY> ("VIGIL_SERVER_LISTEN").
// A few settings also have a short environment alias (VIGIL_LISTEN); when both are set the
// long name wins. config/vigil.toml documents every setting with its default.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vigil::config {

// [[scale.metric_types]]: a metrics type of the Scale v6 facade (api/scale/). Its columns read
// Vigil metrics; its choices are the distinct values of the tag `choice_tag`.
struct ScaleFilter {
  std::string param;            // a field of the choices ("version")
  std::string type = "string";  // bool|date|datetime|float|int|string|time
  bool operator==(const ScaleFilter&) const = default;
};
struct ScaleGroup {
  std::string name;
  std::string title;  // defaults to the name
  std::string description;
  bool operator==(const ScaleGroup&) const = default;
};
struct ScaleColumn {
  std::string name;
  std::string title;  // defaults to the name
  std::string description;
  std::string units;
  std::string group;      // one of the type's groups, or empty
  std::string aggregate;  // sum|avg|min|max: within a day and across choices
  std::string metric;     // the Vigil metric the column reads
  bool operator==(const ScaleColumn&) const = default;
};
struct ScaleMetricType {
  std::string name;  // [A-Za-z0-9._-]+, unique: the {name} of /v6/metrics/{name}/
  std::string title;  // defaults to the name
  std::string description;
  std::string choice_tag;  // a tag name
  std::vector<ScaleFilter> filters;
  std::vector<ScaleGroup> groups;
  std::vector<ScaleColumn> columns;  // at least one
  bool operator==(const ScaleMetricType&) const = default;
};

struct Config {
  // [server]
  std::string data_dir = "./data";        // where RocksDB and the ingest logs live
  std::string listen = "127.0.0.1:8080";  // HOST:PORT of the HTTP API; IPv6 as [::1]:8080
  int http_threads = 4;                   // HTTP worker threads, 1..256
  std::int64_t max_inflated_mb = 64;      // largest size a gzip / deflate request body inflates to
  std::int64_t max_body_mb = 32;          // largest request body read (413 beyond, before reading it)
  std::int64_t max_connections = 1000;    // open HTTP connections; more get 503 and are closed
  std::int64_t header_timeout_ms = 10000; // a request head (and the TLS handshake) must arrive within this
  std::int64_t body_timeout_ms = 60000;   // a request body must arrive within this
  std::int64_t idle_timeout_ms = 60000;   // a kept-alive connection waiting for its next request
  std::int64_t max_requests_per_connection = 10000;  // then the connection closes; 0 = no limit
  std::int64_t max_in_flight = 64;        // requests admitted and not yet answered; more get 503
  // [tls]: TLS on the HTTP API when cert_file is set (plain HTTP otherwise)
  std::string tls_cert_file;              // PEM certificate chain
  std::string tls_key_file;               // PEM private key
  std::string tls_client_ca_file;         // PEM CA(s): set, clients must present a certificate they signed
  std::string tls_min_version = "1.2";    // 1.2|1.3
  // [console]
  std::string console_web_root;           // the web console's files; empty: <executable's dir>/web
  // [engine]
  int shards = 0;                         // 0 = one per CPU core; 0..1024
  int flush_interval_ms = 2000;           // how long a shard holds samples before writing them, 1..3600000
  std::int64_t flush_pending_samples = 1500000;  // a shard flushes early at this many pending samples
  int idle_flush_ms = 2000;               // quiet time before idle maintenance, 0..3600000 (0 = never)
  std::int64_t max_batch_samples = 100000;  // largest accepted ingest request, in measurements
  std::int64_t max_unapplied_samples = 2000000;  // backlog bound: ingest waits (then 503) beyond it
  std::int64_t ingest_wait_ms = 1000;     // an HTTP write waits this long for the backlog, then 503
  std::int64_t apply_delay_us = 0;        // fault injection: sleep per applied batch (tests only)
  std::int64_t fail_write_every = 0;      // fault injection: every Nth ingest write fails (tests only)
  // [storage]
  bool sync_writes = false;             // fsync the RocksDB WAL before acknowledging writes
  std::int64_t block_cache_mb = 256;    // RocksDB block cache size
  std::int64_t memtable_mb = 32;        // RocksDB memtables of all column families together
  std::string fault_injection;          // fault injection: "op:prefix:count,..." (tests only)
  std::int64_t min_free_mb = 64;        // writes are refused (507) below this much free disk space
  // [query]
  std::int64_t max_points = 100000;     // points per response before pagination (links.next)
  std::int64_t query_max_series = 100000;          // series one query request reads (0 = unlimited)
  std::int64_t query_max_read_points = 10000000;   // series x buckets one request reads, estimated first (0 = unlimited)
  std::int64_t query_timeout_ms = 30000;           // a query request's deadline (0 = none)
  std::int64_t query_max_concurrent = 16;          // query requests running at once (0 = unlimited)
  // [limits]
  std::int64_t limits_max_series = 10000000;            // series in all (0 = unlimited)
  std::int64_t limits_max_series_per_metric = 2000000;  // series of one metric (0 = unlimited)
  // [alerts]
  int alerts_delivery_timeout_ms = 5000;   // one notification attempt, connect to response
  int alerts_max_attempts = 10;            // attempts before a notification is kept as failed
  int alerts_backoff_initial_ms = 1000;    // delay before the first retry (doubles, with jitter)
  int alerts_backoff_max_ms = 300000;      // longest delay between retries
  std::string alerts_smtp_url;             // smtp://host:port or smtps://host:port; empty: mail undeliverable
  std::string alerts_smtp_from = "vigil@localhost";  // the sender of alert e-mails
  std::string alerts_smtp_username;        // SMTP AUTH, when both are set
  std::string alerts_smtp_password;
  bool alerts_smtp_starttls = false;       // require STARTTLS on smtp://
  bool alerts_allow_private_targets = true;  // notification targets on loopback / private ranges
  std::int64_t alerts_failed_retention_s = 604800;  // failed notifications are kept this long, then purged
  std::int64_t alerts_outbox_max = 100000;  // notifications in the outbox (pending + failed), at most
  std::int64_t alerts_idle_stream_s = 3600;  // per-stream alert state idle this long is released
  // [kafka]
  std::string kafka_bootstrap_servers;              // empty: no Kafka consumer
  std::string kafka_topics = "measurements";        // comma-separated topic list
  std::string kafka_group_id = "vigil";
  // Static group membership: "" derives the id from the host name and the data directory,
  // "off" joins as a dynamic member (connectors/kafka: default_group_instance_id).
  std::string kafka_group_instance_id;
  std::string kafka_dead_letter_topic = "measurements.dlq";  // empty: count bad messages only
  std::string kafka_timestamp_precision = "ns";     // line protocol timestamps: ns|us|ms|s
  std::int64_t kafka_batch_size = 5000;             // messages per consume call
  std::int64_t kafka_pause_high_water = 500000;     // pause partitions above this many queued samples
  std::int64_t kafka_resume_low_water = 100000;     // resume them at or below this
  std::int64_t kafka_broker_thread_nice = 10;       // librdkafka's broker threads, below the consumer's own
  std::int64_t kafka_prefetch_mb = 256;             // consumed messages waiting to be parsed, at most
  std::int64_t kafka_prefetch_stalled_mb = 256;     // the same bound while the store delays writes
  std::int64_t kafka_max_sample_age_s = 0;          // dead-letter samples older than this; 0 = off
  bool kafka_embedded = false;                      // run the mock cluster in-process and consume from it
  std::int64_t kafka_embedded_partitions = 4;       // partitions per topic of the embedded cluster
  // [kafka.rdkafka]: librdkafka properties passed through as they are ("session.timeout.ms" -> "6000")
  std::vector<std::pair<std::string, std::string>> kafka_rdkafka;
  // [auth]
  bool auth_enabled = true;             // HTTP Basic with API tokens on every /v1 route
  std::string admin_user;               // account email (the Basic user); empty: kept / admin@localhost
  std::string admin_token;              // first admin token; empty: generated on first start
  std::int64_t rate_limit = 1000000;    // requests per API token per minute
  // [api]
  std::int64_t job_threshold = 100;     // batch metric updates/deletes above this many metrics run as jobs
  // [log]
  std::string log_level = "info";       // trace|debug|info|warn|error
  std::string log_format = "text";      // text|json
  // [scale]: metric_types, from the file only (not from the environment or flags)
  std::vector<ScaleMetricType> scale_metric_types;

  // Parts of `listen`: the host without IPv6 brackets, and the port. Empty / 0 when
  // `listen` is not a valid HOST:PORT (load() never produces such a Config).
  std::string listen_host() const;
  std::uint16_t listen_port() const;
  // `shards`, with 0 resolved to the number of CPU cores (at least 1).
  int effective_shards() const;
  // `kafka_topics` split at commas, blanks trimmed, empty entries dropped.
  std::vector<std::string> kafka_topic_list() const;

  bool operator==(const Config&) const = default;
};

struct ConfigError {
  std::string key;      // dotted setting key ("server.listen"), or the file path for file errors
  std::string message;  // what is wrong, and where the value came from
};

using KeyValues = std::vector<std::pair<std::string, std::string>>;

// Builds `out` from defaults, then `file` (if non-empty; a missing file is an error), then
// `env` (VIGIL_* variables that are not settings are ignored), then `overrides` (dotted key
// -> value as text, e.g. from flags; unknown keys are errors; keys "kafka.rdkafka.<property>"
// go to kafka_rdkafka). On error returns the first
// problem found and leaves `out` unchanged.
std::optional<ConfigError> load(Config& out, const std::string& file, const KeyValues& env,
                                const KeyValues& overrides);

// The settings of a TOML text over the defaults, as load() reads a file named `name` (the same
// checks and messages, no environment and no overrides). Used by the TOML fuzz target.
std::optional<ConfigError> load_toml(Config& out, std::string_view text, const std::string& name);

// The process environment as (name, value) pairs.
KeyValues environment();

// One row of the settings table, for documentation and help output.
struct SettingInfo {
  std::string key;        // "server.http_threads"
  std::string env;        // "VIGIL_SERVER_HTTP_THREADS"
  std::string env_alias;  // "VIGIL_HTTP_THREADS", or empty
};
const std::vector<SettingInfo>& settings();

}  // namespace vigil::config

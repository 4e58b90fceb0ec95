// vigil: the executable. Parses the command line and config, opens the engine, serves HTTP, and
// shuts down gracefully on SIGTERM / SIGINT (every accepted sample is flushed first).
#include <signal.h>
#include <unistd.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <vector>
#include <filesystem>
#include <iostream>

#include "actors/alerting/hub.hpp"
#include "actors/engine.hpp"
#include "api/console/console.hpp"
#include "api/deeploy/dialect.hpp"
#include "api/http/server.hpp"
#include "api/librato/access.hpp"
#include "api/librato/dialect.hpp"
#include "api/ubiops/dialect.hpp"
#include "api/odsl/dialect.hpp"
#include "api/scale/dialect.hpp"
#include "engine/meta/doc_store.hpp"
#include "engine/storage/free_space.hpp"
#include "engine/meta/jobs.hpp"
#include "api/router.hpp"
#include "config/cli.hpp"
#include "config/config.hpp"
#include "connectors/notify/notifier.hpp"
#include "connectors/kafka/kafka.hpp"

namespace {

void setup_logging(const vigil::config::Config& cfg) {
  auto logger = spdlog::stderr_color_mt("vigil");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(cfg.log_level));
  if (cfg.log_format == "json")
    spdlog::set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","msg":"%v"})");
  else
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %l %v");
}

// Blocks SIGINT and SIGTERM (taken by sigwait) before any thread starts.
sigset_t block_stop_signals() {
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return sigs;
}

// `vigil kafka-mock`: the mock cluster alone, until SIGTERM / SIGINT.
int kafka_mock(const vigil::config::Command& cmd) {
  vigil::config::Config cfg;
  setup_logging(cfg);
  sigset_t sigs = block_stop_signals();
  const std::vector<std::string>& topics = cmd.mock_topics;
  const std::string dlq = "measurements.dlq";
  std::string err;
  auto mock = vigil::connectors::MockCluster::start(topics, cmd.mock_partitions, err);
  if (mock && std::find(topics.begin(), topics.end(), dlq) == topics.end()) mock->create_topic(dlq, 1, err);
  if (!mock || !err.empty()) {
    spdlog::error("{}", err);
    return 1;
  }
  std::cout << "bootstrap: " << mock->bootstrap() << std::endl;
  spdlog::info("kafka mock cluster on {}: topics {} with {} partition(s)", mock->bootstrap(),
               fmt::join(topics, ","), cmd.mock_partitions);
  int sig = 0;
  sigwait(&sigs, &sig);
  spdlog::info("signal {} received: stopping the mock cluster", sig);
  mock.reset();
  return 0;
}

// The Kafka consumer, when kafka.bootstrap_servers is set or kafka.embedded is on (then the mock
// cluster starts first, in-process, and its address is printed as "bootstrap: HOST:PORT").
bool start_kafka(const vigil::config::Config& cfg, vigil::actors::Engine& engine,
                 std::unique_ptr<vigil::connectors::MockCluster>& mock,
                 std::unique_ptr<vigil::connectors::KafkaConsumer>& consumer) {
  std::string bootstrap = cfg.kafka_bootstrap_servers;
  std::string err;
  if (cfg.kafka_embedded) {
    std::vector<std::string> topics = cfg.kafka_topic_list();
    mock = vigil::connectors::MockCluster::start(topics, static_cast<int>(cfg.kafka_embedded_partitions), err);
    if (mock && !cfg.kafka_dead_letter_topic.empty() &&
        std::find(topics.begin(), topics.end(), cfg.kafka_dead_letter_topic) == topics.end())
      mock->create_topic(cfg.kafka_dead_letter_topic, 1, err);
    if (!mock || !err.empty()) {
      spdlog::error("embedded kafka: {}", err);
      return false;
    }
    if (bootstrap.empty()) bootstrap = mock->bootstrap();
    spdlog::info("embedded kafka: bootstrap: {}", mock->bootstrap());
    std::cout << "bootstrap: " << mock->bootstrap() << std::endl;
  }
  if (bootstrap.empty()) return true;
  vigil::connectors::KafkaOptions ko;
  ko.bootstrap_servers = bootstrap;
  ko.topics = cfg.kafka_topic_list();
  ko.group_id = cfg.kafka_group_id;
  if (cfg.kafka_group_instance_id.empty()) {
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
    std::error_code dir_ec;
    auto dir = std::filesystem::weakly_canonical(std::filesystem::absolute(cfg.data_dir), dir_ec);
    ko.group_instance_id = vigil::connectors::default_group_instance_id(host, dir_ec ? cfg.data_dir : dir.string());
  } else if (cfg.kafka_group_instance_id != "off") {
    ko.group_instance_id = cfg.kafka_group_instance_id;
  }
  spdlog::info("kafka: group {}, {}", ko.group_id,
               ko.group_instance_id.empty() ? std::string("dynamic member") : "static member " + ko.group_instance_id);
  ko.dead_letter_topic = cfg.kafka_dead_letter_topic;
  ko.timestamp_precision = cfg.kafka_timestamp_precision;
  ko.batch_size = static_cast<std::size_t>(cfg.kafka_batch_size);
  ko.pause_high_water = static_cast<std::size_t>(cfg.kafka_pause_high_water);
  ko.prefetch_bytes = static_cast<std::size_t>(cfg.kafka_prefetch_mb) << 20;
  ko.prefetch_stalled_bytes = static_cast<std::size_t>(cfg.kafka_prefetch_stalled_mb) << 20;
  ko.broker_thread_nice = static_cast<int>(cfg.kafka_broker_thread_nice);
  ko.resume_low_water = static_cast<std::size_t>(cfg.kafka_resume_low_water);
  ko.max_sample_age_s = cfg.kafka_max_sample_age_s;
  ko.rdkafka = cfg.kafka_rdkafka;
  consumer = vigil::connectors::KafkaConsumer::start(engine, ko, err);
  if (!consumer) {
    spdlog::error("kafka: {}", err);
    return false;
  }
  return true;
}

int serve(const vigil::config::Config& cfg, std::shared_ptr<vigil::api::TlsContext> tls) {
  setup_logging(cfg);
  sigset_t sigs = block_stop_signals();

  std::error_code ec;
  std::filesystem::create_directories(cfg.data_dir, ec);
  if (ec) {
    spdlog::error("cannot create data dir {}: {}", cfg.data_dir, ec.message());
    return 1;
  }
  vigil::actors::EngineOptions eo;
  eo.data_dir = cfg.data_dir;
  eo.shards = cfg.shards;
  eo.flush_interval_ms = cfg.flush_interval_ms;
  eo.idle_flush_ms = cfg.idle_flush_ms;
  eo.flush_pending_samples = static_cast<std::size_t>(cfg.flush_pending_samples);
  eo.storage.sync_writes = cfg.sync_writes;
  eo.storage.block_cache_mb = cfg.block_cache_mb;
  eo.storage.memtable_mb = cfg.memtable_mb;
  eo.apply_delay_us = cfg.apply_delay_us;
  eo.fail_write_every = cfg.fail_write_every;
  eo.query_limits.max_series = static_cast<std::size_t>(cfg.query_max_series);
  eo.query_limits.max_points = static_cast<std::uint64_t>(cfg.query_max_read_points);
  eo.query_limits.timeout_ms = cfg.query_timeout_ms;
  eo.query_limits.max_concurrent = static_cast<std::size_t>(cfg.query_max_concurrent);
  eo.max_series = static_cast<std::size_t>(cfg.limits_max_series);
  eo.max_series_per_metric = static_cast<std::size_t>(cfg.limits_max_series_per_metric);
  eo.storage.fault_injection = cfg.fault_injection;
  vigil::set_min_free_space(static_cast<std::uint64_t>(cfg.min_free_mb) << 20);
  if (!cfg.fault_injection.empty()) spdlog::warn("storage.fault_injection = \"{}\": injected storage faults (tests only)", cfg.fault_injection);
  eo.max_in_flight = static_cast<std::size_t>(cfg.max_unapplied_samples);
  eo.ingest_wait_ms = static_cast<int>(cfg.ingest_wait_ms);
  std::string err;
  auto engine = vigil::actors::Engine::open(eo, err);
  if (!engine) {
    spdlog::error("cannot open the store in {}: {}", cfg.data_dir, err);
    return 1;
  }
  vigil::actors::AlertLimits alert_limits;
  alert_limits.outbox_max = static_cast<std::size_t>(cfg.alerts_outbox_max);
  alert_limits.idle_stream_ms = cfg.alerts_idle_stream_s * 1000;
  alert_limits.failed_retention_ms = cfg.alerts_failed_retention_s * 1000;
  engine->alerts().set_limits(alert_limits);
  vigil::connectors::NotifierOptions no;
  no.delivery_timeout_ms = cfg.alerts_delivery_timeout_ms;
  no.max_attempts = cfg.alerts_max_attempts;
  no.backoff_initial_ms = cfg.alerts_backoff_initial_ms;
  no.backoff_max_ms = cfg.alerts_backoff_max_ms;
  no.smtp_url = cfg.alerts_smtp_url;
  no.smtp_from = cfg.alerts_smtp_from;
  no.smtp_username = cfg.alerts_smtp_username;
  no.smtp_password = cfg.alerts_smtp_password;
  no.smtp_starttls = cfg.alerts_smtp_starttls;
  no.allow_private_targets = cfg.alerts_allow_private_targets;
  vigil::connectors::Notifier notifier(engine->alerts(), no);
  notifier.start();
  std::unique_ptr<vigil::connectors::MockCluster> kafka_mock;
  std::unique_ptr<vigil::connectors::KafkaConsumer> kafka;
  vigil::TokenStore tokens(engine->storage());
  if (vigil::Status st = tokens.load(); !st.ok()) {
    spdlog::error("cannot load the API tokens: {}", st.to_string());
    return 1;
  }
  if (!vigil::api::librato::bootstrap_tokens(tokens, cfg.admin_user, cfg.admin_token, cfg.data_dir, err)) {
    spdlog::error("cannot set up API tokens: {}", err);
    return 1;
  }
  if (!cfg.auth_enabled) spdlog::warn("auth.enabled = false: every /v1 request is admitted as admin");
  vigil::api::Authenticator auth(tokens);
  vigil::api::librato::Access access(auth, {cfg.auth_enabled, cfg.rate_limit, 60});
  vigil::JobTable jobs(engine->storage());
  vigil::DocStore docs(engine->storage());
  if (vigil::Status st = jobs.start(); !st.ok()) {
    spdlog::error("cannot load the jobs: {}", st.to_string());
    return 1;
  }
  if (vigil::Status st = docs.load(); !st.ok()) {
    spdlog::error("cannot load the stored documents: {}", st.to_string());
    return 1;
  }
  vigil::api::RouterOptions ro;
  const vigil::api::HttpServer* http_server = nullptr;  // set once the server exists
  ro.extra_metrics = [&kafka, &http_server] {
    std::string out = http_server ? http_server->metrics_text() : std::string();
    if (kafka) out += kafka->metrics_text();
    return out;
  };
  ro.max_inflated_bytes = static_cast<std::size_t>(cfg.max_inflated_mb) << 20;
  ro.max_body_bytes = static_cast<std::uint64_t>(cfg.max_body_mb) << 20;
  vigil::api::Router router(*engine, ro);
  vigil::api::librato::Resources librato{*engine,
                                         access,
                                         jobs,
                                         docs,
                                         router.rejects(),
                                         cfg.job_threshold,
                                         static_cast<std::size_t>(cfg.max_points),
                                         static_cast<std::size_t>(cfg.max_batch_samples)};
  vigil::api::librato::LibratoDialect librato_dialect(librato);
  router.add(librato_dialect);
  vigil::api::ubiops::Resources ubiops{*engine,
                                       auth,
                                       docs,
                                       router.rejects(),
                                       cfg.auth_enabled,
                                       static_cast<std::size_t>(cfg.max_points),
                                       static_cast<std::size_t>(cfg.max_batch_samples),
                                       {}};
  vigil::api::ubiops::UbiOpsDialect ubiops_dialect(ubiops);
  router.add(ubiops_dialect);
  vigil::api::deeploy::Resources deeploy{*engine, auth, docs, router.rejects(), cfg.auth_enabled,
                                         static_cast<std::size_t>(cfg.max_batch_samples)};
  vigil::api::deeploy::DeeployDialect deeploy_dialect(deeploy);
  router.add(deeploy_dialect);
  vigil::api::odsl::Resources odsl{*engine, auth, docs, router.rejects(), cfg.auth_enabled};
  vigil::api::odsl::OdslDialect odsl_dialect(odsl);
  router.add(odsl_dialect);
  vigil::api::scale::Resources scale{*engine, auth, docs, router.rejects(), cfg.scale_metric_types, cfg.auth_enabled};
  vigil::api::scale::ScaleDialect scale_dialect(scale);
  router.add(scale_dialect);
  std::string web_root = cfg.console_web_root;
  if (web_root.empty()) {
    std::error_code ec2;
    auto exe = std::filesystem::read_symlink("/proc/self/exe", ec2);
    web_root = ec2 ? std::string("web") : (exe.parent_path() / "web").string();
  }
  vigil::api::console::Console console(*engine, auth, {web_root, cfg.auth_enabled});
  if (!console.load_error().empty()) spdlog::warn("web console: {}", console.load_error());
  router.set_fallback([&console](const vigil::api::Request& r) { return console.handle(r); });
  vigil::api::HttpLimits limits;
  limits.max_body_bytes = static_cast<std::uint64_t>(cfg.max_body_mb) << 20;
  limits.max_connections = static_cast<std::size_t>(cfg.max_connections);
  limits.header_timeout = std::chrono::milliseconds(cfg.header_timeout_ms);
  limits.body_timeout = std::chrono::milliseconds(cfg.body_timeout_ms);
  limits.idle_timeout = std::chrono::milliseconds(cfg.idle_timeout_ms);
  limits.max_requests_per_connection = static_cast<std::uint64_t>(cfg.max_requests_per_connection);
  limits.max_in_flight = static_cast<std::size_t>(cfg.max_in_flight);
  vigil::api::HttpServer server(cfg.listen_host(), cfg.listen_port(), cfg.http_threads, router, limits, tls);
  http_server = &server;
  if (!server.start(err)) {
    spdlog::error("{}", err);
    return 1;
  }
  spdlog::info("listening on {}:{}{}", cfg.listen_host(), server.port(), tls ? " (TLS)" : "");
  if (!start_kafka(cfg, *engine, kafka_mock, kafka)) {
    server.stop();
    engine->shutdown();
    return 1;
  }

  int sig = 0;
  sigwait(&sigs, &sig);
  spdlog::info("signal {} received: shutting down", sig);
  server.stop();
  if (kafka) kafka->stop();
  jobs.stop();
  notifier.stop();
  engine->shutdown();
  kafka.reset();
  kafka_mock.reset();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  auto cmd = vigil::config::parse_cli(argc, argv);
  switch (cmd.kind) {
    case vigil::config::Command::help:
    case vigil::config::Command::version:
      std::cout << cmd.message << std::endl;
      return 0;
    case vigil::config::Command::error:
      std::cerr << cmd.message << std::endl;
      return cmd.exit_code;
    case vigil::config::Command::kafka_mock:
      return kafka_mock(cmd);
    case vigil::config::Command::serve:
      break;
  }
  vigil::config::Config cfg;
  if (auto e = vigil::config::load(cfg, cmd.config_file, vigil::config::environment(), cmd.overrides)) {
    std::cerr << "config error: " << e->key << ": " << e->message << std::endl;
    return 2;
  }
  // The TLS files are loaded before anything starts: an unusable one is a configuration error.
  std::shared_ptr<vigil::api::TlsContext> tls;
  if (!cfg.tls_cert_file.empty()) {
    vigil::api::TlsOptions to{cfg.tls_cert_file, cfg.tls_key_file, cfg.tls_client_ca_file, cfg.tls_min_version};
    std::string key, err;
    tls = vigil::api::make_tls_context(to, key, err);
    if (!tls) {
      std::cerr << "config error: " << key << ": " << err << std::endl;
      return 2;
    }
  }
  return serve(cfg, std::move(tls));
}

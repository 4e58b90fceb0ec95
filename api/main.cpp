// vigil: the executable. Parses the command line and config, opens the engine, serves HTTP, and
// shuts down gracefully on SIGTERM / SIGINT (every accepted sample is flushed first).
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>
#include <iostream>

#include "actors/engine.hpp"
#include "api/http_server.hpp"
#include "api/router.hpp"
#include "config/cli.hpp"
#include "config/config.hpp"
#include "connectors/notifier.hpp"

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

int serve(const vigil::config::Config& cfg) {
  setup_logging(cfg);
  // Signals are taken by sigwait below: block them before any thread starts.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  signal(SIGPIPE, SIG_IGN);

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
  eo.storage.sync_writes = cfg.sync_writes;
  eo.storage.block_cache_mb = cfg.block_cache_mb;
  std::string err;
  auto engine = vigil::actors::Engine::open(eo, err);
  if (!engine) {
    spdlog::error("cannot open the store in {}: {}", cfg.data_dir, err);
    return 1;
  }
  vigil::connectors::NotifierOptions no;
  no.delivery_timeout_ms = cfg.alerts_delivery_timeout_ms;
  no.max_attempts = cfg.alerts_max_attempts;
  no.backoff_initial_ms = cfg.alerts_backoff_initial_ms;
  no.backoff_max_ms = cfg.alerts_backoff_max_ms;
  vigil::connectors::Notifier notifier(engine->alerts(), no);
  notifier.start();
  vigil::api::RouterOptions ro;
  ro.max_points = static_cast<std::size_t>(cfg.max_points);
  ro.max_batch_samples = static_cast<std::size_t>(cfg.max_batch_samples);
  vigil::api::Router router(*engine, ro);
  vigil::api::HttpServer server(cfg.listen_host(), cfg.listen_port(), cfg.http_threads,
                                [&router](const vigil::api::Request& r) { return router.handle(r); });
  if (!server.start(err)) {
    spdlog::error("{}", err);
    return 1;
  }
  spdlog::info("listening on {}:{}", cfg.listen_host(), server.port());

  int sig = 0;
  sigwait(&sigs, &sig);
  spdlog::info("signal {} received: shutting down", sig);
  server.stop();
  notifier.stop();
  engine->shutdown();
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
    case vigil::config::Command::serve:
      break;
  }
  vigil::config::Config cfg;
  if (auto e = vigil::config::load(cfg, cmd.config_file, vigil::config::environment(), cmd.overrides)) {
    std::cerr << "config error: " << e->key << ": " << e->message << std::endl;
    return 2;
  }
  return serve(cfg);
}

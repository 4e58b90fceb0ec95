#include "config/cli.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstddef>
#include <sstream>

#ifndef VIGIL_VERSION
#error "VIGIL_VERSION must be defined by the build (see config/CMakeLists.txt)"
#endif

namespace vigil::config {
namespace {

constexpr int kUsageError = 2;

// Flags of `serve` that set one setting each. Anything else: --set KEY=VALUE.
struct SettingFlag {
  const char* flag;
  const char* key;
  const char* value_name;
  const char* description;
};

constexpr SettingFlag kServeFlags[] = {
    {"--data-dir", "server.data_dir", "DIR", "Directory for the database and ingest logs"},
    {"--listen", "server.listen", "HOST:PORT", "Address of the HTTP API, e.g. 127.0.0.1:8080 or [::1]:8080"},
    {"--http-threads", "server.http_threads", "N", "HTTP worker threads (1..256)"},
    {"--shards", "engine.shards", "N", "Engine shards (0 = one per CPU core)"},
    {"--log-level", "log.level", "LEVEL", "trace|debug|info|warn|error"},
    {"--kafka-bootstrap", "kafka.bootstrap_servers", "HOST:PORT", "Kafka brokers to consume measurements from"},
};

std::string settings_footer() {
  std::ostringstream out;
  out << "Settings apply in this order: defaults, the --config file, environment variables,\n"
         "then flags. Every setting (file key / environment variable):\n";
  for (const auto& s : settings()) {
    out << "  " << s.key << std::string(s.key.size() < 28 ? 28 - s.key.size() : 1, ' ') << s.env;
    if (!s.env_alias.empty()) out << " or " << s.env_alias;
    out << "\n";
  }
  out << "config/vigil.toml lists them with their defaults.";
  return out.str();
}

Command make(Command::Kind kind, std::string message, int exit_code) {
  Command c;
  c.kind = kind;
  c.message = std::move(message);
  c.exit_code = exit_code;
  return c;
}

Command usage_error(const std::string& what) {
  return make(Command::error, "vigil: " + what + "\nRun 'vigil --help' for usage.", kUsageError);
}

// Help for the whole program: its options, then every command with its options.
// (App::help() would describe the selected subcommand instead, e.g. `help` itself.)
std::string program_help(const CLI::App& app) {
  return app.get_formatter()->make_help(&app, app.get_name(), CLI::AppFormatMode::All);
}

const CLI::App* find_subcommand(const CLI::App& app, const std::string& name) {
  auto subs = app.get_subcommands([&](const CLI::App* s) { return s->get_name() == name; });
  return subs.empty() ? nullptr : subs.front();
}

}  // namespace

std::string_view version() { return VIGIL_VERSION; }

Command parse_cli(int argc, const char* const* argv) {
  CLI::App app{"Vigil: a streaming metrics engine.", "vigil"};
  app.set_help_flag("-h,--help", "Show this help and exit");
  bool show_version = false;
  app.add_flag("--version", show_version, "Print the version and exit");
  app.require_subcommand(0, 1);
  app.footer("Run 'vigil help COMMAND' for the details of one command.");

  // serve
  CLI::App* serve = app.add_subcommand("serve", "Run the server: ingestion, storage and the HTTP API");
  std::string config_file;
  serve->add_option("-c,--config", config_file, "TOML settings file (see config/vigil.toml)")->type_name("FILE");
  constexpr std::size_t kFlagCount = std::size(kServeFlags);
  std::vector<std::string> flag_values(kFlagCount);
  std::vector<CLI::Option*> flag_options(kFlagCount);
  for (std::size_t i = 0; i < kFlagCount; ++i)
    flag_options[i] = serve->add_option(kServeFlags[i].flag, flag_values[i], kServeFlags[i].description)
                          ->type_name(kServeFlags[i].value_name);
  std::vector<std::string> sets;
  serve->add_option("--set", sets, "Set any setting, e.g. --set storage.sync_writes=true (repeatable)")
      ->type_name("KEY=VALUE");
  bool embedded_kafka = false;
  serve->add_flag("--embedded-kafka", embedded_kafka,
                  "Run an in-process mock Kafka cluster and consume from it (prints 'bootstrap: HOST:PORT')");
  serve->footer(settings_footer());

  // kafka-mock
  CLI::App* mock = app.add_subcommand(
      "kafka-mock", "Run librdkafka's mock Kafka cluster alone; prints 'bootstrap: HOST:PORT' first, runs until SIGTERM");
  int mock_partitions = 4;
  std::string mock_topics = "measurements";
  mock->add_option("--partitions", mock_partitions, "Partitions per topic (1..1024)")->type_name("N");
  mock->add_option("--topics", mock_topics, "Topics to create, comma-separated (the dead-letter topic "
                                             "measurements.dlq is always created)")
      ->type_name("a,b");

  // help
  CLI::App* help = app.add_subcommand("help", "Show help for vigil or for a command");
  std::string topic;
  help->add_option("command", topic, "Command to describe")->type_name("COMMAND");

  std::vector<std::string> args;
  for (int i = argc - 1; i >= 1; --i) args.emplace_back(argv[i]);  // CLI11 takes them reversed
  const std::string first = args.empty() ? std::string() : args.back();

  try {
    app.parse(args);
  } catch (const CLI::CallForHelp&) {
    // `vigil serve --help` describes serve; `vigil --help` everything.
    return make(Command::help, serve->parsed() ? serve->help(app.get_name()) : program_help(app), 0);
  } catch (const CLI::ExtrasError& e) {
    if (!first.empty() && first.front() != '-' && !find_subcommand(app, first))
      return usage_error("unknown command '" + first + "'");
    return usage_error(e.what());
  } catch (const CLI::ParseError& e) {
    return usage_error(e.what());
  }

  if (show_version) return make(Command::version, "vigil " + std::string(version()), 0);

  if (help->parsed()) {
    if (topic.empty()) return make(Command::help, program_help(app), 0);
    const CLI::App* sub = find_subcommand(app, topic);
    if (!sub) return usage_error("unknown command '" + topic + "'");
    return make(Command::help, sub->help(app.get_name()), 0);
  }

  if (serve->parsed()) {
    Command c = make(Command::serve, "", 0);
    c.config_file = config_file;
    for (const auto& kv : sets) {
      auto eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) return usage_error("--set expects KEY=VALUE, got '" + kv + "'");
      c.overrides.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
    }
    // Dedicated flags apply after --set, so they win over it.
    for (std::size_t i = 0; i < kFlagCount; ++i)
      if (flag_options[i]->count() > 0) c.overrides.emplace_back(kServeFlags[i].key, flag_values[i]);
    if (embedded_kafka) c.overrides.emplace_back("kafka.embedded", "true");
    return c;
  }

  if (mock->parsed()) {
    if (mock_partitions < 1 || mock_partitions > 1024) return usage_error("--partitions expects 1..1024");
    Command c = make(Command::kafka_mock, "", 0);
    c.mock_partitions = mock_partitions;
    std::size_t pos = 0;
    while (pos <= mock_topics.size()) {
      auto comma = mock_topics.find(',', pos);
      if (comma == std::string::npos) comma = mock_topics.size();
      std::string t = mock_topics.substr(pos, comma - pos);
      t.erase(0, t.find_first_not_of(' '));
      t.erase(t.find_last_not_of(' ') + 1);
      if (!t.empty()) c.mock_topics.push_back(t);
      pos = comma + 1;
    }
    if (c.mock_topics.empty()) return usage_error("--topics expects a comma-separated list of topics");
    return c;
  }

  return make(Command::error, "vigil: missing command\n\n" + program_help(app), kUsageError);
}

int run_config(const Command& cmd, const KeyValues& env, Config& out, std::string& err) {
  if (auto e = load(out, cmd.config_file, env, cmd.overrides)) {
    err = "config error: " + e->key + ": " + e->message;
    return kUsageError;
  }
  err.clear();
  return 0;
}

int run_config(const Command& cmd, Config& out, std::string& err) { return run_config(cmd, environment(), out, err); }

}  // namespace vigil::config

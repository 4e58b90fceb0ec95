// Command-line parsing for the `vigil` binary.
//
//   vigil serve [--config FILE] [--data-dir DIR] [--listen HOST:PORT] [--shards N]
//               [--http-threads N] [--log-level L] [--set KEY=VALUE]...
//               [--kafka-bootstrap HOST:PORT] [--embedded-kafka]
//   vigil kafka-mock [--partitions N] [--topics a,b]
//   vigil help [COMMAND] | vigil --help | vigil --version
//
// Flags of `serve` become setting overrides (dotted key -> text); they are validated when
// the configuration is loaded, so errors name the setting.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.hpp"

namespace vigil::config {

// "0.1.0", the project version.
std::string_view version();

struct Command {
  enum Kind { serve, help, version, error, kafka_mock } kind = error;
  std::string config_file;  // --config, empty when not given
  KeyValues overrides;      // dotted key -> value, in the order they apply
  std::string message;      // help text, version line, or error text (for help/version/error)
  int exit_code = 0;        // for help/version/error: what the process should exit with
  // kafka-mock: partitions per topic and the topics to create.
  int mock_partitions = 4;
  std::vector<std::string> mock_topics;
};

// Never throws on bad input: unknown flags or commands give kind == error, exit_code 2.
Command parse_cli(int argc, const char* const* argv);

// Loads the configuration for `cmd` (its config file, then `env`, then its overrides) into
// `out`. Returns 0, or 2 with `err` = "config error: <key>: <message>".
int run_config(const Command& cmd, const KeyValues& env, Config& out, std::string& err);
// Same, with the process environment.
int run_config(const Command& cmd, Config& out, std::string& err);

}  // namespace vigil::config

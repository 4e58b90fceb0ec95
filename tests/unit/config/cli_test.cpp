#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "config/cli.hpp"

namespace vigil::config {
namespace {

Command parse(std::vector<std::string> args) {
  std::vector<const char*> argv{"vigil"};
  for (const auto& a : args) argv.push_back(a.c_str());
  return parse_cli(static_cast<int>(argv.size()), argv.data());
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(Cli, help_flag_lists_commands_and_options) {
  for (const char* flag : {"--help", "-h"}) {
    auto c = parse({flag});
    EXPECT_EQ(c.kind, Command::help) << flag;
    EXPECT_EQ(c.exit_code, 0) << flag;
    for (const char* part : {"serve", "help", "--version", "--config", "--data-dir", "--listen", "--shards",
                             "--http-threads", "--log-level", "--set"})
      EXPECT_TRUE(contains(c.message, part)) << flag << " lacks " << part << ":\n" << c.message;
  }
}

TEST(Cli, help_command_gives_same_text_as_help_flag) {
  auto flag = parse({"--help"});
  auto cmd = parse({"help"});
  EXPECT_EQ(cmd.kind, Command::help);
  EXPECT_EQ(cmd.exit_code, 0);
  EXPECT_EQ(cmd.message, flag.message);
}

TEST(Cli, help_for_serve_lists_its_flags_and_setting_env_names) {
  auto a = parse({"help", "serve"});
  auto b = parse({"serve", "--help"});
  EXPECT_EQ(a.kind, Command::help);
  EXPECT_EQ(b.kind, Command::help);
  EXPECT_EQ(a.exit_code, 0);
  EXPECT_EQ(a.message, b.message);
  EXPECT_TRUE(contains(a.message, "vigil serve")) << a.message;
  EXPECT_TRUE(contains(a.message, "--listen HOST:PORT")) << a.message;
  EXPECT_TRUE(contains(a.message, "VIGIL_SERVER_HTTP_THREADS or VIGIL_HTTP_THREADS")) << a.message;
  EXPECT_TRUE(contains(a.message, "storage.sync_writes")) << a.message;
}

TEST(Cli, help_for_unknown_command_is_error) {
  auto c = parse({"help", "launch"});
  EXPECT_EQ(c.kind, Command::error);
  EXPECT_EQ(c.exit_code, 2);
  EXPECT_TRUE(contains(c.message, "unknown command 'launch'")) << c.message;
}

TEST(Cli, version_flag_prints_name_and_version) {
  auto c = parse({"--version"});
  EXPECT_EQ(c.kind, Command::version);
  EXPECT_EQ(c.exit_code, 0);
  EXPECT_EQ(c.message, "vigil 0.1.0");
  EXPECT_EQ(version(), "0.1.0");
}

TEST(Cli, serve_without_flags_has_no_overrides) {
  auto c = parse({"serve"});
  EXPECT_EQ(c.kind, Command::serve);
  EXPECT_EQ(c.exit_code, 0);
  EXPECT_EQ(c.config_file, "");
  EXPECT_TRUE(c.overrides.empty());
}

TEST(Cli, serve_flags_become_dotted_key_overrides) {
  auto c = parse({"serve", "--data-dir", "/tmp/d", "--listen", "0.0.0.0:9090", "--config", "my.toml",
                  "--shards", "4", "--http-threads", "8", "--log-level", "debug"});
  ASSERT_EQ(c.kind, Command::serve) << c.message;
  EXPECT_EQ(c.exit_code, 0);
  EXPECT_EQ(c.config_file, "my.toml");
  KeyValues expected{{"server.data_dir", "/tmp/d"},
                     {"server.listen", "0.0.0.0:9090"},
                     {"server.http_threads", "8"},
                     {"engine.shards", "4"},
                     {"log.level", "debug"}};
  EXPECT_EQ(c.overrides, expected);
}

TEST(Cli, flags_accept_equals_form_and_short_config) {
  auto c = parse({"serve", "--listen=[::1]:81", "-c", "x.toml"});
  ASSERT_EQ(c.kind, Command::serve) << c.message;
  EXPECT_EQ(c.config_file, "x.toml");
  EXPECT_EQ(c.overrides, (KeyValues{{"server.listen", "[::1]:81"}}));
}

TEST(Cli, set_flag_overrides_any_setting_and_dedicated_flags_win) {
  auto c = parse({"serve", "--shards", "2", "--set", "storage.sync_writes=true", "--set", "engine.shards=9",
                  "--set", "log.format=a=b"});
  ASSERT_EQ(c.kind, Command::serve) << c.message;
  KeyValues expected{{"storage.sync_writes", "true"},
                     {"engine.shards", "9"},
                     {"log.format", "a=b"},
                     {"engine.shards", "2"}};
  EXPECT_EQ(c.overrides, expected);
}

TEST(Cli, set_flag_without_equals_is_error) {
  auto c = parse({"serve", "--set", "storage.sync_writes"});
  EXPECT_EQ(c.kind, Command::error);
  EXPECT_EQ(c.exit_code, 2);
  EXPECT_TRUE(contains(c.message, "KEY=VALUE")) << c.message;
}

TEST(Cli, unknown_flag_is_error_with_exit_2) {
  for (auto args : {std::vector<std::string>{"serve", "--bogus"}, std::vector<std::string>{"--bogus"},
                    std::vector<std::string>{"serve", "--port", "80"}}) {
    auto c = parse(args);
    EXPECT_EQ(c.kind, Command::error) << args.back();
    EXPECT_EQ(c.exit_code, 2);
    EXPECT_TRUE(contains(c.message, args[args.size() == 3 ? 1 : args.size() - 1])) << c.message;
    EXPECT_TRUE(contains(c.message, "vigil --help")) << c.message;
  }
}

TEST(Cli, unknown_command_is_error_with_exit_2) {
  auto c = parse({"start"});
  EXPECT_EQ(c.kind, Command::error);
  EXPECT_EQ(c.exit_code, 2);
  EXPECT_TRUE(contains(c.message, "unknown command 'start'")) << c.message;
}

TEST(Cli, missing_command_is_error_with_usage) {
  auto c = parse({});
  EXPECT_EQ(c.kind, Command::error);
  EXPECT_EQ(c.exit_code, 2);
  EXPECT_TRUE(contains(c.message, "missing command")) << c.message;
  EXPECT_TRUE(contains(c.message, "serve")) << c.message;
}

TEST(Cli, flag_without_value_is_error) {
  auto c = parse({"serve", "--listen"});
  EXPECT_EQ(c.kind, Command::error);
  EXPECT_EQ(c.exit_code, 2);
  EXPECT_TRUE(contains(c.message, "--listen")) << c.message;
}

TEST(Cli, zero_argc_is_missing_command) {
  auto c = parse_cli(0, nullptr);
  EXPECT_EQ(c.kind, Command::error);
  EXPECT_EQ(c.exit_code, 2);
}

TEST(Cli, run_config_applies_file_then_env_then_flags) {
  auto file = std::filesystem::temp_directory_path() / ("vigil_cli_test_" + std::to_string(::getpid()) + ".toml");
  std::ofstream(file) << "[server]\nhttp_threads = 3\ndata_dir = \"/from/file\"\n[engine]\nshards = 5\n";
  auto c = parse({"serve", "--config", file.string(), "--shards", "7"});
  ASSERT_EQ(c.kind, Command::serve) << c.message;
  Config cfg;
  std::string err = "stale";
  int rc = run_config(c, {{"VIGIL_SHARDS", "6"}, {"VIGIL_HTTP_THREADS", "9"}}, cfg, err);
  std::filesystem::remove(file);
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(err, "");
  EXPECT_EQ(cfg.data_dir, "/from/file");
  EXPECT_EQ(cfg.http_threads, 9);
  EXPECT_EQ(cfg.shards, 7);
}

TEST(Cli, run_config_reports_bad_flag_value_with_key) {
  auto c = parse({"serve", "--listen", "nohost"});
  ASSERT_EQ(c.kind, Command::serve) << c.message;
  Config cfg;
  std::string err;
  EXPECT_EQ(run_config(c, {}, cfg, err), 2);
  EXPECT_EQ(err.rfind("config error: server.listen: ", 0), 0u) << err;
  EXPECT_EQ(cfg.listen, "127.0.0.1:8080");
}

TEST(Cli, run_config_reports_missing_config_file) {
  auto c = parse({"serve", "--config", "/nonexistent/vigil.toml"});
  Config cfg;
  std::string err;
  EXPECT_EQ(run_config(c, {}, cfg, err), 2);
  EXPECT_EQ(err, "config error: /nonexistent/vigil.toml: cannot open config file");
}


TEST(Cli, kafka_flags_of_serve) {
  auto c = parse({"serve", "--kafka-bootstrap", "127.0.0.1:9092", "--embedded-kafka"});
  ASSERT_EQ(c.kind, Command::serve) << c.message;
  EXPECT_EQ(c.overrides, (KeyValues{{"kafka.bootstrap_servers", "127.0.0.1:9092"}, {"kafka.embedded", "true"}}));
}

TEST(Cli, kafka_mock_command) {
  auto d = parse({"kafka-mock"});
  ASSERT_EQ(d.kind, Command::kafka_mock) << d.message;
  EXPECT_EQ(d.mock_partitions, 4);
  EXPECT_EQ(d.mock_topics, (std::vector<std::string>{"measurements"}));
  auto c = parse({"kafka-mock", "--partitions", "8", "--topics", "a, b"});
  ASSERT_EQ(c.kind, Command::kafka_mock) << c.message;
  EXPECT_EQ(c.mock_partitions, 8);
  EXPECT_EQ(c.mock_topics, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(parse({"kafka-mock", "--partitions", "0"}).kind, Command::error);
  EXPECT_EQ(parse({"kafka-mock", "--topics", ","}).kind, Command::error);
}

}  // namespace
}  // namespace vigil::config

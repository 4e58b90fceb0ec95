#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/config.hpp"

namespace vigil::config {

// Readable failure output for ASSERT_EQ(load(...), std::nullopt).
void PrintTo(const ConfigError& e, std::ostream* os) { *os << e.key << ": " << e.message; }

namespace {

namespace fs = std::filesystem;

// The shipped settings file, found relative to this source file (tests/unit/ -> repo root).
fs::path shipped_config() { return fs::path(VIGIL_SOURCE_DIR) / "config" / "vigil.toml"; }

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("vigil_config_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& content) {
    auto p = dir_ / name;
    std::ofstream(p) << content;
    return p.string();
  }

  fs::path dir_;
};

TEST_F(ConfigTest, defaults_without_file_env_or_flags) {
  Config c;
  c.http_threads = 99;  // load starts from defaults, not from what `out` held
  ASSERT_EQ(load(c, "", {}, {}), std::nullopt);
  EXPECT_EQ(c.data_dir, "./data");
  EXPECT_EQ(c.listen, "127.0.0.1:8080");
  EXPECT_EQ(c.listen_host(), "127.0.0.1");
  EXPECT_EQ(c.listen_port(), 8080);
  EXPECT_EQ(c.http_threads, 4);
  EXPECT_EQ(c.shards, 0);
  EXPECT_GE(c.effective_shards(), 1);
  EXPECT_EQ(c.flush_interval_ms, 2000);
  EXPECT_EQ(c.flush_pending_samples, 1500000);
  EXPECT_EQ(c.max_batch_samples, 100000);
  EXPECT_FALSE(c.sync_writes);
  EXPECT_EQ(c.block_cache_mb, 256);
  EXPECT_EQ(c.memtable_mb, 32);
  EXPECT_EQ(c.max_points, 100000);
  EXPECT_EQ(c.log_level, "info");
  EXPECT_EQ(c.log_format, "text");
}

TEST_F(ConfigTest, file_sets_values_in_every_section) {
  auto file = write("all.toml", R"(
[server]
data_dir = "/var/lib/vigil"
listen = "0.0.0.0:9000"
http_threads = 16
[engine]
shards = 8
flush_interval_ms = 50
max_batch_samples = 5000
[storage]
sync_writes = true
block_cache_mb = 1024
[query]
max_points = 777
[log]
level = "debug"
format = "json"
)");
  Config c;
  ASSERT_EQ(load(c, file, {}, {}), std::nullopt);
  EXPECT_EQ(c.data_dir, "/var/lib/vigil");
  EXPECT_EQ(c.listen_host(), "0.0.0.0");
  EXPECT_EQ(c.listen_port(), 9000);
  EXPECT_EQ(c.http_threads, 16);
  EXPECT_EQ(c.shards, 8);
  EXPECT_EQ(c.effective_shards(), 8);
  EXPECT_EQ(c.flush_interval_ms, 50);
  EXPECT_EQ(c.max_batch_samples, 5000);
  EXPECT_TRUE(c.sync_writes);
  EXPECT_EQ(c.block_cache_mb, 1024);
  EXPECT_EQ(c.max_points, 777);
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(c.log_format, "json");
}

TEST_F(ConfigTest, partial_file_keeps_other_defaults) {
  auto file = write("partial.toml", "[engine]\nshards = 2\n");
  Config c;
  ASSERT_EQ(load(c, file, {}, {}), std::nullopt);
  Config expected;
  expected.shards = 2;
  EXPECT_EQ(c, expected);
}

TEST_F(ConfigTest, env_overrides_file) {
  auto file = write("f.toml", "[server]\nhttp_threads = 8\nlisten = \"127.0.0.1:1000\"\n");
  Config c;
  ASSERT_EQ(load(c, file, {{"VIGIL_SERVER_HTTP_THREADS", "12"}, {"VIGIL_LISTEN", "10.0.0.1:2000"}}, {}),
            std::nullopt);
  EXPECT_EQ(c.http_threads, 12);
  EXPECT_EQ(c.listen, "10.0.0.1:2000");
}

TEST_F(ConfigTest, env_names_are_section_and_key_upper_case) {
  Config c;
  ASSERT_EQ(load(c, "",
                 {{"VIGIL_ENGINE_FLUSH_INTERVAL_MS", "1000"},
                  {"VIGIL_ENGINE_MAX_BATCH_SAMPLES", "42"},
                  {"VIGIL_STORAGE_SYNC_WRITES", "true"},
                  {"VIGIL_STORAGE_BLOCK_CACHE_MB", "64"},
                  {"VIGIL_QUERY_MAX_POINTS", "10"},
                  {"VIGIL_LOG_LEVEL", "warn"},
                  {"VIGIL_LOG_FORMAT", "json"},
                  {"VIGIL_SERVER_DATA_DIR", "/data"}},
                 {}),
            std::nullopt);
  EXPECT_EQ(c.flush_interval_ms, 1000);
  EXPECT_EQ(c.max_batch_samples, 42);
  EXPECT_TRUE(c.sync_writes);
  EXPECT_EQ(c.block_cache_mb, 64);
  EXPECT_EQ(c.max_points, 10);
  EXPECT_EQ(c.log_level, "warn");
  EXPECT_EQ(c.log_format, "json");
  EXPECT_EQ(c.data_dir, "/data");
}

TEST_F(ConfigTest, short_env_aliases_set_their_settings) {
  Config c;
  ASSERT_EQ(load(c, "",
                 {{"VIGIL_DATA_DIR", "/srv/v"},
                  {"VIGIL_LISTEN", "[::1]:7000"},
                  {"VIGIL_HTTP_THREADS", "2"},
                  {"VIGIL_SHARDS", "3"}},
                 {}),
            std::nullopt);
  EXPECT_EQ(c.data_dir, "/srv/v");
  EXPECT_EQ(c.listen_host(), "::1");
  EXPECT_EQ(c.listen_port(), 7000);
  EXPECT_EQ(c.http_threads, 2);
  EXPECT_EQ(c.shards, 3);
}

TEST_F(ConfigTest, long_env_name_beats_short_alias_regardless_of_order) {
  Config c;
  ASSERT_EQ(load(c, "", {{"VIGIL_SERVER_DATA_DIR", "/long"}, {"VIGIL_DATA_DIR", "/short"}}, {}), std::nullopt);
  EXPECT_EQ(c.data_dir, "/long");
}

TEST_F(ConfigTest, flag_override_beats_env_and_file) {
  auto file = write("f.toml", "[engine]\nshards = 4\n[log]\nlevel = \"error\"\n");
  Config c;
  ASSERT_EQ(load(c, file, {{"VIGIL_SHARDS", "6"}, {"VIGIL_LOG_LEVEL", "debug"}},
                 {{"engine.shards", "9"}, {"server.listen", "localhost:81"}}),
            std::nullopt);
  EXPECT_EQ(c.shards, 9);
  EXPECT_EQ(c.log_level, "debug");  // env beats file when no flag
  EXPECT_EQ(c.listen_host(), "localhost");
  EXPECT_EQ(c.listen_port(), 81);
}

TEST_F(ConfigTest, later_override_of_same_key_wins) {
  Config c;
  ASSERT_EQ(load(c, "", {}, {{"engine.shards", "1"}, {"engine.shards", "5"}}), std::nullopt);
  EXPECT_EQ(c.shards, 5);
}

TEST_F(ConfigTest, unrelated_vigil_env_vars_are_ignored) {
  Config c;
  ASSERT_EQ(load(c, "", {{"VIGIL_OPERATOR_NAME", "root"}, {"VIGIL_SOMETHING", "x"}, {"PATH", "/bin"}}, {}),
            std::nullopt);
  EXPECT_EQ(c, Config{});
}

TEST_F(ConfigTest, unknown_key_in_file_is_error_naming_key) {
  auto file = write("f.toml", "[server]\nlisten = \"127.0.0.1:1\"\nthreads = 4\n");
  Config c;
  auto err = load(c, file, {}, {});
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->key, "server.threads");
  EXPECT_NE(err->message.find("unknown setting"), std::string::npos) << err->message;
  EXPECT_NE(err->message.find(":3)"), std::string::npos) << err->message;  // line number
}

TEST_F(ConfigTest, unknown_section_is_error_naming_section) {
  auto file = write("f.toml", "[sever]\nlisten = \"127.0.0.1:1\"\n");
  Config c;
  auto err = load(c, file, {}, {});
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->key, "sever");
  EXPECT_NE(err->message.find("unknown section"), std::string::npos) << err->message;
}

TEST_F(ConfigTest, top_level_key_is_unknown_setting) {
  auto file = write("f.toml", "listen = \"127.0.0.1:1\"\n");
  Config c;
  auto err = load(c, file, {}, {});
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->key, "listen");
  EXPECT_NE(err->message.find("unknown setting"), std::string::npos) << err->message;
}

TEST_F(ConfigTest, section_given_as_value_is_error) {
  auto file = write("f.toml", "server = 3\n");
  Config c;
  auto err = load(c, file, {}, {});
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->key, "server");
  EXPECT_NE(err->message.find("expected a table"), std::string::npos) << err->message;
}

TEST_F(ConfigTest, string_for_integer_in_file_is_error_naming_key) {
  auto file = write("f.toml", "[server]\nhttp_threads = \"8\"\n");
  Config c;
  auto err = load(c, file, {}, {});
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->key, "server.http_threads");
  EXPECT_NE(err->message.find("expected an integer, got a string"), std::string::npos) << err->message;
}

TEST_F(ConfigTest, float_for_integer_and_integer_for_bool_are_errors) {
  Config c;
  auto err = load(c, write("a.toml", "[engine]\nflush_interval_ms = 2.5\n"), {}, {});
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->key, "engine.flush_interval_ms");
  EXPECT_NE(err->message.find("floating-point"), std::string::npos) << err->message;

  err = load(c, write("b.toml", "[storage]\nsync_writes = 1\n"), {}, {});
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->key, "storage.sync_writes");
  EXPECT_NE(err->message.find("expected a boolean"), std::string::npos) << err->message;
}

TEST_F(ConfigTest, out_of_range_integers_are_errors) {
  Config c;
  auto err = load(c, write("f.toml", "[server]\nhttp_threads = 0\n"), {}, {});
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->key, "server.http_threads");
  EXPECT_NE(err->message.find("1..256"), std::string::npos) << err->message;

  err = load(c, "", {}, {{"engine.shards", "1025"}});
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->key, "engine.shards");

  err = load(c, "", {}, {{"engine.flush_interval_ms", "3600001"}});
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->key, "engine.flush_interval_ms");

  err = load(c, "", {}, {{"engine.idle_flush_ms", "-1"}});
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->key, "engine.idle_flush_ms");
  Config off;
  EXPECT_FALSE(load(off, "", {}, {{"engine.idle_flush_ms", "0"}}).has_value()) << "0 turns idle maintenance off";
  EXPECT_EQ(off.idle_flush_ms, 0);

  // Larger than int: must be rejected, not truncated.
  err = load(c, "", {}, {{"server.http_threads", "4294967300"}});
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->key, "server.http_threads");
  EXPECT_EQ(c, Config{});
}

TEST_F(ConfigTest, bad_env_value_names_key_and_variable) {
  Config c;
  auto err = load(c, "", {{"VIGIL_SERVER_HTTP_THREADS", "many"}}, {});
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->key, "server.http_threads");
  EXPECT_NE(err->message.find("'many'"), std::string::npos) << err->message;
  EXPECT_NE(err->message.find("VIGIL_SERVER_HTTP_THREADS"), std::string::npos) << err->message;

  err = load(c, "", {{"VIGIL_STORAGE_SYNC_WRITES", "maybe"}}, {});
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->key, "storage.sync_writes");
}

TEST_F(ConfigTest, integer_text_must_be_a_whole_number) {
  Config c;
  for (const char* bad : {"", "8x", " 8", "8.0", "0x10"}) {
    auto err = load(c, "", {}, {{"engine.shards", bad}});
    ASSERT_TRUE(err.has_value()) << "'" << bad << "'";
    EXPECT_EQ(err->key, "engine.shards");
  }
  ASSERT_EQ(load(c, "", {}, {{"engine.shards", "-0"}}), std::nullopt);
  EXPECT_EQ(c.shards, 0);
}

TEST_F(ConfigTest, boolean_text_accepts_common_spellings) {
  Config c;
  for (const char* yes : {"true", "TRUE", "1", "yes", "on"}) {
    ASSERT_EQ(load(c, "", {{"VIGIL_STORAGE_SYNC_WRITES", yes}}, {}), std::nullopt) << yes;
    EXPECT_TRUE(c.sync_writes) << yes;
  }
  for (const char* no : {"false", "0", "no", "off"}) {
    ASSERT_EQ(load(c, "", {}, {{"storage.sync_writes", no}}), std::nullopt) << no;
    EXPECT_FALSE(c.sync_writes) << no;
  }
}

TEST_F(ConfigTest, listen_without_port_is_error) {
  Config c;
  auto err = load(c, "", {}, {{"server.listen", "nohost"}});
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->key, "server.listen");
  EXPECT_NE(err->message.find("HOST:PORT"), std::string::npos) << err->message;
}

TEST_F(ConfigTest, listen_port_out_of_range_is_error) {
  Config c;
  for (const char* bad : {"127.0.0.1:70000", "127.0.0.1:65536", "127.0.0.1:000000080"}) {
    auto err = load(c, "", {{"VIGIL_LISTEN", bad}}, {});
    ASSERT_TRUE(err.has_value()) << bad;
    EXPECT_EQ(err->key, "server.listen");
    EXPECT_NE(err->message.find("0..65535"), std::string::npos) << err->message;
  }
}

TEST_F(ConfigTest, listen_port_zero_means_any_free_port) {
  Config c;
  ASSERT_EQ(load(c, "", {}, {{"server.listen", "127.0.0.1:0"}}), std::nullopt);
  EXPECT_EQ(c.listen_port(), 0);
}

TEST_F(ConfigTest, listen_malformed_hosts_are_errors) {
  Config c;
  for (const char* bad : {":8080", "::1:8080", "[::1]8080", "[::1", "[]:80", "host name:80", "h:", "h:8o", "[zz]:80"}) {
    auto err = load(c, "", {}, {{"server.listen", bad}});
    ASSERT_TRUE(err.has_value()) << bad;
    EXPECT_EQ(err->key, "server.listen") << bad;
  }
}

TEST_F(ConfigTest, listen_ipv6_in_brackets_splits_host_and_port) {
  Config c;
  ASSERT_EQ(load(c, "", {}, {{"server.listen", "[::1]:65535"}}), std::nullopt);
  EXPECT_EQ(c.listen, "[::1]:65535");
  EXPECT_EQ(c.listen_host(), "::1");
  EXPECT_EQ(c.listen_port(), 65535);
}

TEST_F(ConfigTest, listen_parts_of_invalid_address_are_empty) {
  Config c;
  c.listen = "garbage";
  EXPECT_EQ(c.listen_host(), "");
  EXPECT_EQ(c.listen_port(), 0);
}

TEST_F(ConfigTest, bad_enum_values_are_errors) {
  Config c;
  auto err = load(c, "", {}, {{"log.level", "verbose"}});
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->key, "log.level");
  EXPECT_NE(err->message.find("trace|debug|info|warn|error"), std::string::npos) << err->message;

  err = load(c, write("f.toml", "[log]\nformat = \"xml\"\n"), {}, {});
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->key, "log.format");
}

TEST_F(ConfigTest, empty_data_dir_is_error) {
  Config c;
  auto err = load(c, "", {{"VIGIL_DATA_DIR", ""}}, {});
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->key, "server.data_dir");
}

TEST_F(ConfigTest, unknown_override_key_is_error_naming_key) {
  Config c;
  auto err = load(c, "", {}, {{"server.port", "80"}});
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->key, "server.port");
  EXPECT_EQ(err->message, "unknown setting");
}

TEST_F(ConfigTest, missing_file_is_error_naming_file) {
  Config c;
  auto missing = (dir_ / "nope.toml").string();
  auto err = load(c, missing, {}, {});
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->key, missing);
  EXPECT_NE(err->message.find("cannot open"), std::string::npos) << err->message;
}

TEST_F(ConfigTest, toml_syntax_error_gives_line) {
  auto file = write("f.toml", "[server]\nlisten = \n");
  Config c;
  auto err = load(c, file, {}, {});
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->key, file);
  EXPECT_NE(err->message.find("line 2"), std::string::npos) << err->message;
}

TEST_F(ConfigTest, error_leaves_output_unchanged) {
  Config c;
  c.data_dir = "/keep";
  c.shards = 7;
  auto err = load(c, "", {{"VIGIL_SHARDS", "2"}}, {{"server.listen", "bad"}});
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(c.data_dir, "/keep");
  EXPECT_EQ(c.shards, 7);
}

TEST_F(ConfigTest, shipped_config_file_loads_and_equals_defaults) {
  ASSERT_TRUE(fs::exists(shipped_config())) << shipped_config();
  Config c;
  c.shards = 3;
  auto err = load(c, shipped_config().string(), {}, {});
  ASSERT_EQ(err, std::nullopt) << err->key << ": " << err->message;
  EXPECT_EQ(c, Config{});
  EXPECT_EQ(c.shards, 0);
  EXPECT_EQ(c.listen, "127.0.0.1:8080");
}

TEST_F(ConfigTest, shipped_config_file_documents_every_setting) {
  std::ifstream in(shipped_config());
  std::stringstream text;
  text << in.rdbuf();
  const std::string content = text.str();
  ASSERT_FALSE(content.empty());
  ASSERT_EQ(settings().size(), 72u);
  for (const auto& s : settings()) {
    auto dot = s.key.find('.');
    auto section = content.find("\n[" + s.key.substr(0, dot) + "]\n");
    ASSERT_NE(section, std::string::npos) << s.key;
    std::string needle = "\n";  // appended: GCC 12 -O3 warns falsely on "\n" + std::string(...)
    needle += s.key.substr(dot + 1);
    needle += " = ";
    auto entry = content.find(needle, section);
    ASSERT_NE(entry, std::string::npos) << s.key;
    auto next_section = content.find("\n[", section + 1);
    EXPECT_LT(entry, next_section) << s.key << " is not in its section";
    EXPECT_EQ(content.substr(content.rfind('\n', entry - 1) + 1, 2), "# ") << s.key << " has no comment";
  }
}

TEST_F(ConfigTest, http_limit_settings) {
  Config c;
  ASSERT_EQ(load(c, "", {}, {}), std::nullopt);
  EXPECT_EQ(c.max_body_mb, 32);
  EXPECT_EQ(c.max_connections, 1000);
  EXPECT_EQ(c.header_timeout_ms, 10000);
  EXPECT_EQ(c.body_timeout_ms, 60000);
  EXPECT_EQ(c.idle_timeout_ms, 60000);
  EXPECT_EQ(c.max_requests_per_connection, 10000);
  EXPECT_EQ(c.max_in_flight, 64);
  EXPECT_EQ(c.max_unapplied_samples, 2000000);
  EXPECT_EQ(c.ingest_wait_ms, 1000);
  ASSERT_EQ(load(c, "", {{"VIGIL_SERVER_MAX_IN_FLIGHT", "3"}},
                 {{"server.max_body_mb", "1"}, {"server.max_requests_per_connection", "0"}}),
            std::nullopt);
  EXPECT_EQ(c.max_in_flight, 3);
  EXPECT_EQ(c.max_body_mb, 1);
  EXPECT_EQ(c.max_requests_per_connection, 0);
  auto err = load(c, "", {}, {{"server.max_in_flight", "0"}});
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->key, "server.max_in_flight");
  err = load(c, "", {}, {{"server.header_timeout_ms", "99"}});
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->key, "server.header_timeout_ms");
}

TEST_F(ConfigTest, tls_files_must_come_in_pairs_and_be_readable) {
  Config c;
  std::string cert = write("cert.pem", "-----BEGIN CERTIFICATE-----\n");
  std::string key = write("key.pem", "-----BEGIN PRIVATE KEY-----\n");
  ASSERT_EQ(load(c, "", {}, {{"tls.cert_file", cert}, {"tls.key_file", key}}), std::nullopt);
  EXPECT_EQ(c.tls_cert_file, cert);
  EXPECT_EQ(c.tls_min_version, "1.2");

  auto err = load(c, "", {}, {{"tls.cert_file", (dir_ / "missing.pem").string()}, {"tls.key_file", key}});
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->key, "tls.cert_file");
  EXPECT_NE(err->message.find("missing.pem"), std::string::npos) << err->message;
  EXPECT_NE(err->message.find("No such file"), std::string::npos) << err->message;

  err = load(c, "", {}, {{"tls.cert_file", cert}});
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->key, "tls.key_file");

  err = load(c, "", {}, {{"tls.key_file", key}});
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->key, "tls.key_file");

  err = load(c, "", {}, {{"tls.cert_file", cert}, {"tls.key_file", key}, {"tls.client_ca_file", dir_.string() + "/no-ca.pem"}});
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->key, "tls.client_ca_file");

  err = load(c, "", {}, {{"tls.min_version", "1.1"}});
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->key, "tls.min_version");
}

TEST_F(ConfigTest, auth_settings_and_admin_aliases) {
  Config c;
  ASSERT_EQ(load(c, "", {}, {}), std::nullopt);
  EXPECT_TRUE(c.auth_enabled);
  EXPECT_EQ(c.admin_user, "");
  EXPECT_EQ(c.admin_token, "");
  EXPECT_EQ(c.rate_limit, 1000000);
  EXPECT_EQ(c.job_threshold, 100);
  ASSERT_EQ(load(c, "", {{"VIGIL_ADMIN_USER", "ops@example.com"}, {"VIGIL_ADMIN_TOKEN", "s3cret"}},
                 {{"auth.enabled", "false"}, {"auth.rate_limit", "50"}}),
            std::nullopt);
  EXPECT_EQ(c.admin_user, "ops@example.com");
  EXPECT_EQ(c.admin_token, "s3cret");
  EXPECT_FALSE(c.auth_enabled);
  EXPECT_EQ(c.rate_limit, 50);
  auto err = load(c, "", {}, {{"auth.rate_limit", "0"}});
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->key, "auth.rate_limit");
}

TEST(ConfigSettings, table_lists_env_names_and_aliases) {
  const auto& all = settings();
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all.front().key, "server.data_dir");
  EXPECT_EQ(all.front().env, "VIGIL_SERVER_DATA_DIR");
  EXPECT_EQ(all.front().env_alias, "VIGIL_DATA_DIR");
  bool found = false;
  for (const auto& s : all)
    if (s.key == "engine.flush_interval_ms") {
      found = true;
      EXPECT_EQ(s.env, "VIGIL_ENGINE_FLUSH_INTERVAL_MS");
      EXPECT_EQ(s.env_alias, "");
    }
  EXPECT_TRUE(found);
}

TEST(ConfigEnvironment, returns_process_variables_as_pairs) {
  ASSERT_EQ(::setenv("VIGIL_CONFIG_TEST_PROBE", "a=b", 1), 0);
  auto env = environment();
  ::unsetenv("VIGIL_CONFIG_TEST_PROBE");
  int hits = 0;
  for (const auto& [k, v] : env)
    if (k == "VIGIL_CONFIG_TEST_PROBE") {
      ++hits;
      EXPECT_EQ(v, "a=b");
    }
  EXPECT_EQ(hits, 1);
}


TEST_F(ConfigTest, kafka_defaults_and_overrides) {
  Config c;
  ASSERT_EQ(load(c, "", {}, {}), std::nullopt);
  EXPECT_EQ(c.kafka_bootstrap_servers, "");
  EXPECT_EQ(c.kafka_topic_list(), (std::vector<std::string>{"measurements"}));
  EXPECT_EQ(c.kafka_group_id, "vigil");
  EXPECT_EQ(c.kafka_dead_letter_topic, "measurements.dlq");
  EXPECT_EQ(c.kafka_timestamp_precision, "ns");
  EXPECT_FALSE(c.kafka_embedded);
  EXPECT_EQ(c.kafka_max_sample_age_s, 0);
  EXPECT_EQ(c.kafka_prefetch_mb, 256);
  EXPECT_EQ(c.kafka_prefetch_stalled_mb, 256);
  EXPECT_EQ(c.kafka_broker_thread_nice, 10);
  EXPECT_TRUE(c.kafka_rdkafka.empty());
  ASSERT_EQ(load(c, "", {{"VIGIL_KAFKA_BOOTSTRAP", "k1:9092"}},
                 {{"kafka.topics", " a, b ,,c"}, {"kafka.rdkafka.session.timeout.ms", "6000"},
                  {"kafka.timestamp_precision", "ms"}}),
            std::nullopt);
  EXPECT_EQ(c.kafka_bootstrap_servers, "k1:9092");
  EXPECT_EQ(c.kafka_topic_list(), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(c.kafka_timestamp_precision, "ms");
  EXPECT_EQ(c.kafka_rdkafka, (KeyValues{{"session.timeout.ms", "6000"}}));
}

TEST_F(ConfigTest, kafka_invalid_values_name_the_setting) {
  Config c;
  auto e = load(c, "", {}, {{"kafka.timestamp_precision", "minutes"}});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->key, "kafka.timestamp_precision");
  e = load(c, "", {}, {{"kafka.topics", " , "}});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->key, "kafka.topics");
  e = load(c, "", {}, {{"kafka.pause_high_water", "100"}, {"kafka.resume_low_water", "100"}});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->key, "kafka.resume_low_water");
  e = load(c, "", {}, {{"kafka.prefetch_mb", "0"}});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->key, "kafka.prefetch_mb");
  e = load(c, "", {}, {{"kafka.prefetch_stalled_mb", "0"}});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->key, "kafka.prefetch_stalled_mb");
  e = load(c, "", {}, {{"kafka.broker_thread_nice", "20"}});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->key, "kafka.broker_thread_nice");
  ASSERT_EQ(load(c, "", {}, {{"kafka.broker_thread_nice", "0"}}), std::nullopt);
  EXPECT_EQ(c.kafka_broker_thread_nice, 0);
}

TEST_F(ConfigTest, kafka_rdkafka_table_passes_properties_through) {
  auto f = write("k.toml",
                 "[kafka]\ngroup_id = \"g\"\n[kafka.rdkafka]\n\"session.timeout.ms\" = 6000\n"
                 "fetch.wait.max.ms = 50\n\"security.protocol\" = \"ssl\"\n\"enable.idempotence\" = true\n");
  Config c;
  auto e = load(c, f, {}, {{"kafka.rdkafka.security.protocol", "plaintext"}});
  ASSERT_EQ(e, std::nullopt) << e->key << ": " << e->message;
  EXPECT_EQ(c.kafka_group_id, "g");
  // toml++ keeps a table's keys sorted; a flag replaces the file's value in place.
  EXPECT_EQ(c.kafka_rdkafka, (KeyValues{{"enable.idempotence", "true"},
                                        {"fetch.wait.max.ms", "50"},
                                        {"security.protocol", "plaintext"},
                                        {"session.timeout.ms", "6000"}}));
  auto bad = write("b.toml", "[kafka.rdkafka]\nx = [1, 2]\n");
  e = load(c, bad, {}, {});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->key, "kafka.rdkafka");
}

}  // namespace
}  // namespace vigil::config

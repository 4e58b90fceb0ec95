// The [scale] section: [[scale.metric_types]] with their filters, groups and columns, and the
// errors that refuse a config at start, each naming the key.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/config.hpp"

namespace vigil::config {
namespace {

namespace fs = std::filesystem;

class ScaleConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("vigil_scale_config_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::optional<ConfigError> load_text(const std::string& text, Config& c) {
    auto p = dir_ / "scale.toml";
    std::ofstream(p) << text;
    return load(c, p.string(), {}, {});
  }
  // The key of the error loading `text`, or "" when it loads.
  std::string error_key(const std::string& text) {
    Config c;
    auto e = load_text(text, c);
    return e ? e->key : "";
  }

  fs::path dir_;
};

const char* kJobTypes = R"(
[server]
http_threads = 2

[[scale.metric_types]]
name = "job-types"
title = "Job Types"
description = "Metrics for jobs and executions grouped by job type."
choice_tag = "job_type"
filters = [{ param = "name", type = "string" }, { param = "version", type = "string" }]
groups = [{ name = "overview", title = "Overview", description = "Overall counts based on job status." },
          { name = "run_time" }]

[[scale.metric_types.columns]]
name = "completed_count"
title = "Completed Count"
description = "Number of successfully completed jobs."
units = "count"
group = "overview"
aggregate = "sum"
metric = "jobs.completed"

[[scale.metric_types.columns]]
name = "run_time_max"
aggregate = "max"
metric = "jobs.run_time"

[[scale.metric_types]]
name = "hosts"
choice_tag = "host"

[[scale.metric_types.columns]]
name = "cpu"
aggregate = "avg"
metric = "cpu"
)";

TEST_F(ScaleConfigTest, metric_types_with_columns_groups_and_filters_load) {
  Config c;
  auto e = load_text(kJobTypes, c);
  ASSERT_EQ(e, std::nullopt) << e->key << ": " << e->message;
  EXPECT_EQ(c.http_threads, 2);
  ASSERT_EQ(c.scale_metric_types.size(), 2u);
  const auto& t = c.scale_metric_types[0];
  EXPECT_EQ(t.name, "job-types");
  EXPECT_EQ(t.title, "Job Types");
  EXPECT_EQ(t.description, "Metrics for jobs and executions grouped by job type.");
  EXPECT_EQ(t.choice_tag, "job_type");
  EXPECT_EQ(t.filters, (std::vector<ScaleFilter>{{"name", "string"}, {"version", "string"}}));
  EXPECT_EQ(t.groups, (std::vector<ScaleGroup>{
                          {"overview", "Overview", "Overall counts based on job status."},
                          {"run_time", "run_time", ""}}));
  ASSERT_EQ(t.columns.size(), 2u);
  EXPECT_EQ(t.columns[0], (ScaleColumn{"completed_count", "Completed Count",
                                       "Number of successfully completed jobs.", "count",
                                       "overview", "sum", "jobs.completed"}));
  // Titles default to the name; description, units and group to nothing.
  EXPECT_EQ(t.columns[1],
            (ScaleColumn{"run_time_max", "run_time_max", "", "", "", "max", "jobs.run_time"}));
  const auto& h = c.scale_metric_types[1];
  EXPECT_EQ(h.name, "hosts");
  EXPECT_EQ(h.title, "hosts");
  EXPECT_TRUE(h.filters.empty());
  EXPECT_TRUE(h.groups.empty());
  ASSERT_EQ(h.columns.size(), 1u);
  EXPECT_EQ(h.columns[0].aggregate, "avg");
}

TEST_F(ScaleConfigTest, no_scale_section_means_no_types) {
  Config c;
  ASSERT_EQ(load(c, "", {}, {}), std::nullopt);
  EXPECT_TRUE(c.scale_metric_types.empty());
  EXPECT_EQ(error_key("[scale]\n"), "");
}

TEST_F(ScaleConfigTest, unknown_aggregate_is_refused_naming_the_key) {
  Config c;
  auto e = load_text(R"(
[[scale.metric_types]]
name = "t"
choice_tag = "job_type"
[[scale.metric_types.columns]]
name = "a"
aggregate = "sum"
metric = "m"
[[scale.metric_types.columns]]
name = "b"
aggregate = "median"
metric = "m"
)",
                     c);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->key, "scale.metric_types[0].columns[1].aggregate");
  EXPECT_NE(e->message.find("'median'"), std::string::npos) << e->message;
  EXPECT_NE(e->message.find("sum|avg|min|max"), std::string::npos) << e->message;
  EXPECT_NE(e->message.find("scale.toml:11"), std::string::npos) << e->message;
  EXPECT_TRUE(c.scale_metric_types.empty()) << "an error leaves the output unchanged";
}

TEST_F(ScaleConfigTest, column_without_metric_is_refused_naming_the_key) {
  EXPECT_EQ(error_key("[[scale.metric_types]]\nname = \"t\"\nchoice_tag = \"x\"\n"
                      "[[scale.metric_types.columns]]\nname = \"a\"\naggregate = \"sum\"\n"),
            "scale.metric_types[0].columns[0].metric");
  EXPECT_EQ(
      error_key(
          "[[scale.metric_types]]\nname = \"t\"\nchoice_tag = \"x\"\n"
          "[[scale.metric_types.columns]]\nname = \"a\"\naggregate = \"sum\"\nmetric = \"\"\n"),
      "scale.metric_types[0].columns[0].metric");
}

TEST_F(ScaleConfigTest, two_types_of_one_name_are_refused_naming_the_key) {
  Config c;
  auto e = load_text(R"(
[[scale.metric_types]]
name = "job-types"
choice_tag = "job_type"
[[scale.metric_types.columns]]
name = "a"
aggregate = "sum"
metric = "m"
[[scale.metric_types]]
name = "job-types"
choice_tag = "host"
[[scale.metric_types.columns]]
name = "a"
aggregate = "sum"
metric = "m"
)",
                     c);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->key, "scale.metric_types[1].name");
  EXPECT_NE(e->message.find("scale.metric_types[0]"), std::string::npos) << e->message;
}

TEST_F(ScaleConfigTest, required_keys_types_and_unknown_keys_are_errors) {
  const std::string col =
      "[[scale.metric_types.columns]]\nname = \"a\"\naggregate = \"sum\"\nmetric = \"m\"\n";
  EXPECT_EQ(error_key("[[scale.metric_types]]\nchoice_tag = \"x\"\n" + col),
            "scale.metric_types[0].name");
  EXPECT_EQ(error_key("[[scale.metric_types]]\nname = \"t\"\n" + col),
            "scale.metric_types[0].choice_tag");
  EXPECT_EQ(error_key("[[scale.metric_types]]\nname = \"t\"\nchoice_tag = \"x\"\n"),
            "scale.metric_types[0].columns");
  EXPECT_EQ(error_key("[[scale.metric_types]]\nname = \"a/b\"\nchoice_tag = \"x\"\n" + col),
            "scale.metric_types[0].name");
  EXPECT_EQ(error_key("[[scale.metric_types]]\nname = \"t\"\nchoice_tag = \"job type\"\n" + col),
            "scale.metric_types[0].choice_tag");
  EXPECT_EQ(error_key("[[scale.metric_types]]\nname = 7\nchoice_tag = \"x\"\n" + col),
            "scale.metric_types[0].name");
  EXPECT_EQ(
      error_key("[[scale.metric_types]]\nname = \"t\"\nchoice_tag = \"x\"\ncolour = \"red\"\n" +
                col),
      "scale.metric_types[0].colour");
  EXPECT_EQ(error_key("[[scale.metric_types]]\nname = \"t\"\nchoice_tag = \"x\"\n" + col +
                      "metrc = \"n\"\n"),
            "scale.metric_types[0].columns[0].metrc");
  EXPECT_EQ(error_key("[[scale.metric_types]]\nname = \"t\"\nchoice_tag = \"x\"\n"
                      "[[scale.metric_types.columns]]\nname = \"a\"\nmetric = \"m\"\n"),
            "scale.metric_types[0].columns[0].aggregate");
  EXPECT_EQ(error_key("[[scale.metric_types]]\nname = \"t\"\nchoice_tag = \"x\"\n" + col + col),
            "scale.metric_types[0].columns[1].name");
  EXPECT_EQ(error_key("[[scale.metric_types]]\nname = \"t\"\nchoice_tag = \"x\"\n" + col +
                      "group = \"nope\"\n"),
            "scale.metric_types[0].columns[0].group");
  EXPECT_EQ(error_key("[[scale.metric_types]]\nname = \"t\"\nchoice_tag = \"x\"\n"
                      "filters = [{ param = \"v\", type = \"decimal\" }]\n" +
                      col),
            "scale.metric_types[0].filters[0].type");
  EXPECT_EQ(error_key("[[scale.metric_types]]\nname = \"t\"\nchoice_tag = \"x\"\n"
                      "filters = [{ type = \"int\" }]\n" +
                      col),
            "scale.metric_types[0].filters[0].param");
  EXPECT_EQ(error_key("[[scale.metric_types]]\nname = \"t\"\nchoice_tag = \"x\"\n"
                      "groups = [{ name = \"g\" }, { name = \"g\" }]\n" +
                      col),
            "scale.metric_types[0].groups[1].name");
  EXPECT_EQ(
      error_key("[[scale.metric_types]]\nname = \"t\"\nchoice_tag = \"x\"\ngroups = \"g\"\n" + col),
      "scale.metric_types[0].groups");
  EXPECT_EQ(error_key("[scale]\nmetric_types = 3\n"), "scale.metric_types");
  EXPECT_EQ(error_key("[scale]\ntypes = []\n"), "scale.types");
  EXPECT_EQ(error_key("scale = 1\n"), "scale");
}

// config/vigil.toml shows a metrics type in comments: uncommented, it loads.
TEST_F(ScaleConfigTest, shipped_config_example_type_loads_when_uncommented) {
  std::ifstream in(fs::path(VIGIL_SOURCE_DIR) / "config" / "vigil.toml");
  std::stringstream all;
  all << in.rdbuf();
  const std::string text = all.str();
  auto at = text.find("# [[scale.metric_types]]");
  ASSERT_NE(at, std::string::npos);
  std::istringstream lines(text.substr(at));
  std::string line, example;
  while (std::getline(lines, line)) {
    if (line == "#") continue;
    ASSERT_EQ(line.rfind("# ", 0), 0u) << line;
    example += line.substr(2) + "\n";
  }
  Config c;
  auto e = load_text(example, c);
  ASSERT_EQ(e, std::nullopt) << e->key << ": " << e->message;
  ASSERT_EQ(c.scale_metric_types.size(), 1u);
  EXPECT_EQ(c.scale_metric_types[0].name, "job-types");
  ASSERT_EQ(c.scale_metric_types[0].columns.size(), 1u);
  EXPECT_EQ(c.scale_metric_types[0].columns[0].metric, "jobs.completed");
}

}  // namespace
}  // namespace vigil::config

// The choices of a metrics type over a store: distinct values of the choice tag, their shared
// tags, and ids that are stored, survive reopening the store and are one per value.
#include "api/scale/choices.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <algorithm>
#include <thread>

#include "engine/meta/doc_store.hpp"
#include "engine/storage/storage.hpp"
#include "tests/support/fake_reader.hpp"

namespace vigil::api::scale {
namespace {

namespace fs = std::filesystem;

class ScaleChoicesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("vigil-scale-choices-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    open();
  }
  void TearDown() override {
    docs_.reset();
    storage_.reset();
    fs::remove_all(dir_);
  }
  void open() {
    docs_.reset();
    storage_.reset();
    std::string err;
    storage_ = Storage::open(dir_.string(), StorageOptions{}, err);
    ASSERT_TRUE(storage_) << err;
    docs_ = std::make_unique<DocStore>(*storage_);
    ASSERT_TRUE(docs_->load().ok());
  }

  static config::ScaleMetricType job_types() {
    config::ScaleMetricType t;
    t.name = "job-types";
    t.choice_tag = "Job_Type";  // compared lower-cased, as tags are stored
    t.columns = {{"completed_count", "", "", "", "", "sum", "Jobs.Completed"},
                 {"run_time_max", "", "", "", "", "max", "jobs.run_time"}};
    return t;
  }

  fs::path dir_;
  std::unique_ptr<Storage> storage_;
  std::unique_ptr<DocStore> docs_;
};

TEST_F(ScaleChoicesTest, choices_are_the_tag_values_with_their_shared_tags) {
  test_support::FakeReader reader;
  auto a = reader.add_series("jobs.completed",
                             {{"host", "n1"}, {"job_type", "scale-clock"}, {"version", "1.0"}});
  auto b = reader.add_series("jobs.completed",
                             {{"host", "n1"}, {"job_type", "my-job"}, {"version", "2.1"}});
  auto c = reader.add_series("jobs.run_time",
                             {{"host", "n2"}, {"job_type", "my-job"}, {"version", "2.1"}});
  reader.add_series("jobs.completed", {{"host", "n3"}});                     // no choice tag
  reader.add_series("jobs.other", {{"host", "n1"}, {"job_type", "ghost"}});  // no column reads it
  ChoiceIds ids(*docs_);
  TypeSeries ts;
  std::string err;
  ASSERT_TRUE(discover(reader, job_types(), ids, ts, err)) << err;
  ASSERT_EQ(ts.choices.size(), 2u);
  EXPECT_EQ(ts.choices[0].name, "my-job");
  EXPECT_EQ(ts.choices[1].name, "scale-clock");
  // Ids in name order on first sight.
  EXPECT_EQ(ts.choices[0].id, 1u);
  EXPECT_EQ(ts.choices[1].id, 2u);
  using Shared = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(ts.choices[0].shared, (Shared{{"version", "2.1"}}));  // two hosts: host is not shared
  EXPECT_EQ(ts.choices[1].shared, (Shared{{"host", "n1"}, {"version", "1.0"}}));
  ASSERT_EQ(ts.columns.size(), 2u);
  using Refs = std::vector<std::pair<std::uint64_t, std::size_t>>;
  EXPECT_EQ(ts.columns[0], (Refs{{a, 1}, {b, 0}}));
  EXPECT_EQ(ts.columns[1], (Refs{{c, 0}}));
  EXPECT_EQ(ts.find(2), 1);
  EXPECT_EQ(ts.find(7), -1);
}

TEST_F(ScaleChoicesTest, ids_survive_reopening_the_store_and_new_values_get_new_ones) {
  std::vector<std::uint64_t> first, again;
  std::string err;
  {
    ChoiceIds ids(*docs_);
    ASSERT_TRUE(ids.ids("job_type", {"b", "a"}, first, err)) << err;
  }
  EXPECT_EQ(first, (std::vector<std::uint64_t>{1, 2}));
  open();
  ChoiceIds ids(*docs_);
  ASSERT_TRUE(ids.ids("job_type", {"a", "c", "b"}, again, err)) << err;
  EXPECT_EQ(again, (std::vector<std::uint64_t>{2, 3, 1}));
  // The ids are per tag value: another tag's "a" is another choice.
  std::vector<std::uint64_t> other;
  ASSERT_TRUE(ids.ids("host", {"a"}, other, err)) << err;
  EXPECT_EQ(other, (std::vector<std::uint64_t>{4}));
}

TEST_F(ScaleChoicesTest, concurrent_first_sight_gives_a_value_one_id) {
  ChoiceIds ids(*docs_);
  std::vector<std::vector<std::uint64_t>> got(8);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < got.size(); ++i)
    threads.emplace_back([&, i] {
      std::string err;
      EXPECT_TRUE(ids.ids("job_type", {"x", "y", "z"}, got[i], err)) << err;
    });
  for (auto& t : threads) t.join();
  for (const auto& g : got) EXPECT_EQ(g, got[0]);
  std::vector<std::uint64_t> sorted = got[0];
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, (std::vector<std::uint64_t>{1, 2, 3}));
}

}  // namespace
}  // namespace vigil::api::scale

#include "engine/meta/jobs.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "engine/storage/storage.hpp"

namespace vigil {
namespace {

namespace fs = std::filesystem;

JobInfo wait_done(JobTable& jobs, std::uint64_t id) {
  for (int i = 0; i < 500; ++i) {
    auto j = jobs.get(id);
    if (j && (j->state == JobState::complete || j->state == JobState::failed)) return *j;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return *jobs.get(id);
}

TEST(JobTable, runs_reports_and_persists_jobs) {
  auto dir = fs::temp_directory_path() / ("vigil_jobs_test_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  std::string err;
  std::uint64_t ok_id = 0, failed_id = 0, error_id = 0;
  {
    auto storage = Storage::open(dir.string(), StorageOptions{}, err);
    ASSERT_TRUE(storage) << err;
    JobTable jobs(*storage);
    ASSERT_TRUE(jobs.start().ok());
    ok_id = jobs.submit([](JobTable::Context& c) { c.progress(50); return true; }, 100, err);
    failed_id = jobs.submit([](JobTable::Context&) { return false; }, 101, err);
    error_id = jobs.submit([](JobTable::Context& c) { c.error("cpu", "is invalid"); return true; }, 102, err);
    ASSERT_EQ(ok_id, 1u);
    auto a = wait_done(jobs, ok_id);
    EXPECT_EQ(a.state, JobState::complete);
    EXPECT_EQ(a.progress, 100.0);
    EXPECT_EQ(wait_done(jobs, failed_id).state, JobState::failed);
    auto c = wait_done(jobs, error_id);
    EXPECT_EQ(c.state, JobState::failed);
    EXPECT_EQ(c.errors.at("cpu"), std::vector<std::string>{"is invalid"});
    EXPECT_FALSE(jobs.get(99));
    jobs.stop();
  }
  auto storage = Storage::open(dir.string(), StorageOptions{}, err);
  ASSERT_TRUE(storage) << err;
  JobTable jobs(*storage);
  ASSERT_TRUE(jobs.start().ok());
  EXPECT_EQ(jobs.get(ok_id)->state, JobState::complete);
  EXPECT_EQ(jobs.get(error_id)->errors.at("cpu").size(), 1u);
  EXPECT_EQ(jobs.submit([](JobTable::Context&) { return true; }, 103, err), 4u);  // ids continue
  jobs.stop();
  storage.reset();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace vigil

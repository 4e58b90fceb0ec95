// LiveHub: the samples a real engine's shards apply reach the streams that follow their metric,
// only while a stream is open, with a gap event when a stream falls behind.
#include "api/console/live.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

namespace vigil::api::console {
namespace {

namespace fs = std::filesystem;

Measurement sample(const std::string& name, const std::string& host, std::int64_t t, double v) {
  Measurement m;
  m.name = name;
  m.tags = {{"host", host}};
  m.time = t;
  m.agg = Agg::of_value(v, t);
  return m;
}

class ConsoleLive : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("vigil_console_live_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    actors::EngineOptions o;
    o.data_dir = dir_.string();
    o.shards = 2;
    o.idle_flush_ms = 0;
    std::string err;
    engine_ = actors::Engine::open(o, err);
    ASSERT_TRUE(engine_) << err;
    hub_ = std::make_shared<LiveHub>(*engine_);
  }
  void TearDown() override {
    hub_.reset();
    engine_.reset();
    fs::remove_all(dir_);
  }
  // What the stream has after its wake-ups, until `want` is in it or 5 s passed.
  static std::string drain(BodyStream& s, std::atomic<int>& wakes, const std::string& want) {
    std::string out;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (out.find(want) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      if (wakes.exchange(0) == 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        continue;
      }
      bool done = false;
      out += s.take(done);
      EXPECT_FALSE(done);
    }
    return out;
  }
  fs::path dir_;
  std::unique_ptr<actors::Engine> engine_;
  std::shared_ptr<LiveHub> hub_;
};

TEST_F(ConsoleLive, console_applied_samples_of_the_metric_reach_its_stream) {
  auto s = hub_->subscribe("Console.CPU");
  ASSERT_TRUE(s);
  std::atomic<int> wakes{0};
  s->open([&] { wakes.fetch_add(1); });
  std::string out = drain(*s, wakes, "event: ready");
  EXPECT_NE(out.find("event: ready"), std::string::npos);
  ASSERT_TRUE(engine_->ingest({sample("console.other", "a", 1700000000, 1), sample("console.cpu", "web-1", 1700000000, 4.5)},
                              1700000000)
                  .ok);
  out = drain(*s, wakes, "4.5");
  EXPECT_NE(out.find("event: samples"), std::string::npos);
  EXPECT_NE(out.find(R"("name":"Console.CPU")"), std::string::npos);
  EXPECT_NE(out.find(R"("tags":{"host":"web-1"})"), std::string::npos);
  EXPECT_NE(out.find(R"("value":4.5)"), std::string::npos);
  EXPECT_NE(out.find(R"("time":1700000000)"), std::string::npos);
  EXPECT_EQ(out.find("console.other"), std::string::npos);
  EXPECT_EQ(out.find(R"("value":1.0)"), std::string::npos);
  s->close();
  EXPECT_EQ(hub_->subscribers(), 0u);
  // No stream: the hub is no longer told, ingest goes on.
  EXPECT_TRUE(engine_->ingest({sample("console.cpu", "web-1", 1700000001, 5)}, 1700000001).ok);
  EXPECT_TRUE(engine_->sync());
}

TEST_F(ConsoleLive, console_a_stream_that_falls_behind_gets_a_gap) {
  auto s = hub_->subscribe("console.cpu");
  ASSERT_TRUE(s);
  std::atomic<int> wakes{0};
  s->open([&] { wakes.fetch_add(1); });
  bool done = false;
  s->take(done);  // the greeting
  for (std::size_t i = 0; i < LiveHub::kMaxQueuedBatches + 10; ++i)
    ASSERT_TRUE(engine_->ingest({sample("console.cpu", "web-1", 1700000000 + static_cast<std::int64_t>(i), 1)},
                                1700000000)
                    .ok);
  ASSERT_TRUE(engine_->sync());
  std::string out = s->take(done);
  EXPECT_EQ(out.rfind("event: gap", 0), 0u) << out.substr(0, 80);
  EXPECT_NE(out.find("event: samples"), std::string::npos);
  s->close();
}

TEST_F(ConsoleLive, console_streams_are_bounded) {
  std::vector<std::shared_ptr<BodyStream>> open;
  for (std::size_t i = 0; i < LiveHub::kMaxSubscribers; ++i) {
    open.push_back(hub_->subscribe("m"));
    ASSERT_TRUE(open.back());
  }
  EXPECT_FALSE(hub_->subscribe("m"));
  open.back()->close();
  EXPECT_TRUE(hub_->subscribe("m"));
}

}  // namespace
}  // namespace vigil::api::console

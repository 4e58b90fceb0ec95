// The Kafka connector's life cycle through its public surface, under the sanitizers: the mock
// cluster serves topics on a loopback port; a bad configuration is refused with a message naming
// it, and leaks nothing; a consumer joins the mock cluster's group, reports its partitions in
// /metrics, and stops cleanly (its destructor releases every librdkafka handle).
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "actors/engine.hpp"
#include "connectors/kafka/kafka.hpp"

namespace vigil::connectors {
namespace {

namespace fs = std::filesystem;

fs::path fresh_dir(const char* name) {
  fs::path dir = fs::temp_directory_path() / (std::string(name) + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  return dir;
}

std::unique_ptr<actors::Engine> open_engine(const fs::path& dir) {
  actors::EngineOptions eo;
  eo.data_dir = dir.string();
  eo.shards = 1;
  std::string err;
  auto e = actors::Engine::open(eo, err);
  EXPECT_TRUE(e) << err;
  return e;
}

TEST(KafkaMockCluster, serves_a_loopback_bootstrap_and_creates_topics) {
  std::string err;
  auto mock = MockCluster::start({"measurements"}, 2, err);
  ASSERT_TRUE(mock) << err;
  EXPECT_EQ(mock->bootstrap().rfind("127.0.0.1:", 0), 0u) << mock->bootstrap();
  EXPECT_TRUE(mock->create_topic("measurements.dlq", 1, err)) << err;
}

TEST(KafkaConsumer, refuses_an_unknown_rdkafka_property_and_names_it) {
  const fs::path dir = fresh_dir("vigil_kafka_consumer_conf");
  auto engine = open_engine(dir);
  ASSERT_TRUE(engine);
  KafkaOptions o;
  o.bootstrap_servers = "127.0.0.1:9";
  o.rdkafka = {{"no.such.property", "1"}};
  std::string err;
  EXPECT_EQ(KafkaConsumer::start(*engine, o, err), nullptr);
  EXPECT_NE(err.find("kafka property no.such.property=1"), std::string::npos) << err;
  engine.reset();
  fs::remove_all(dir);
}

TEST(KafkaConsumer, refuses_an_unknown_timestamp_precision) {
  const fs::path dir = fresh_dir("vigil_kafka_consumer_precision");
  auto engine = open_engine(dir);
  ASSERT_TRUE(engine);
  KafkaOptions o;
  o.bootstrap_servers = "127.0.0.1:9";
  o.timestamp_precision = "minutes";
  std::string err;
  EXPECT_EQ(KafkaConsumer::start(*engine, o, err), nullptr);
  EXPECT_EQ(err, "invalid timestamp precision 'minutes'");
  engine.reset();
  fs::remove_all(dir);
}

TEST(KafkaConsumer, joins_the_group_reports_its_partitions_and_stops) {
  const fs::path dir = fresh_dir("vigil_kafka_consumer_group");
  std::string err;
  auto mock = MockCluster::start({"measurements", "measurements.dlq"}, 2, err);
  ASSERT_TRUE(mock) << err;
  auto engine = open_engine(dir);
  ASSERT_TRUE(engine);
  KafkaOptions o;
  o.bootstrap_servers = mock->bootstrap();
  auto consumer = KafkaConsumer::start(*engine, o, err);
  ASSERT_TRUE(consumer) << err;
  std::string text;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    text = consumer->metrics_text();
    if (text.find("\nvigil_kafka_assigned_partitions 2\n") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_NE(text.find("\nvigil_kafka_assigned_partitions 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nvigil_kafka_messages_total 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("vigil_kafka_partition_offset{topic=\"measurements\",partition=\"1\"} 0"),
            std::string::npos)
      << text;
  consumer->stop();
  consumer->stop();                 // idempotent
  text = consumer->metrics_text();  // leaving the group released the partitions
  EXPECT_NE(text.find("\nvigil_kafka_assigned_partitions 0\n"), std::string::npos) << text;
  consumer.reset();
  engine.reset();
  mock.reset();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace vigil::connectors

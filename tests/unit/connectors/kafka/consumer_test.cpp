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
#include "connectors/kafka/consumer_impl.hpp"
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

TEST(KafkaConsumer, default_group_instance_id_is_stable_and_distinct_per_node) {
  const std::string a = default_group_instance_id("node-1", "/var/lib/vigil");
  EXPECT_EQ(a, default_group_instance_id("node-1", "/var/lib/vigil")) << "stable across restarts";
  EXPECT_EQ(a.rfind("vigil-node-1-", 0), 0u) << a;
  EXPECT_EQ(a.size(), std::string("vigil-node-1-").size() + 16) << a;
  EXPECT_NE(a, default_group_instance_id("node-2", "/var/lib/vigil")) << "another host";
  EXPECT_NE(a, default_group_instance_id("node-1", "/var/lib/vigil2")) << "another data dir on one host";
  // A host name Kafka would refuse is made legal: [A-Za-z0-9._-] only, at most 64 of them.
  const std::string odd = default_group_instance_id("h\xc3\xa9 st/" + std::string(100, 'x'), "/d");
  EXPECT_EQ(odd.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"),
            std::string::npos) << odd;
  EXPECT_EQ(odd.size(), 6u + 64 + 1 + 16);
}

TEST(KafkaConsumer, conf_sets_static_membership_and_a_short_session_timeout) {
  auto get = [](rd_kafka_conf_t* c, const char* k) {
    char buf[512];
    size_t n = sizeof buf;
    return rd_kafka_conf_get(c, k, buf, &n) == RD_KAFKA_CONF_OK ? std::string(buf) : std::string("?");
  };
  KafkaOptions o;
  o.bootstrap_servers = "127.0.0.1:9";
  std::string err;
  auto dynamic = kafka::consumer_conf(o, err);
  ASSERT_TRUE(dynamic) << err;
  const std::string unset = get(dynamic.get(), "group.instance.id");
  EXPECT_TRUE(unset.empty() || unset == "?") << "no instance id: a dynamic member (" << unset << ")";
  EXPECT_EQ(get(dynamic.get(), "session.timeout.ms"), "6000");
  EXPECT_EQ(get(dynamic.get(), "heartbeat.interval.ms"), "1000");
  o.group_instance_id = "vigil-node-1-0123456789abcdef";
  o.rdkafka = {{"session.timeout.ms", "10000"}};
  auto fixed = kafka::consumer_conf(o, err);
  ASSERT_TRUE(fixed) << err;
  EXPECT_EQ(get(fixed.get(), "group.instance.id"), o.group_instance_id);
  EXPECT_EQ(get(fixed.get(), "session.timeout.ms"), "10000") << "the user's properties win";
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

// MockCluster: librdkafka's mock cluster (one broker on a loopback port), hosted by a producer
// handle of its own; the embedded broker of `serve --embedded-kafka` and `vigil kafka-mock`.
#include <string>

#include "connectors/kafka/consumer_impl.hpp"

namespace vigil::connectors {

struct MockCluster::Impl {
  kafka::Client rk;
  kafka::MockClusterHandle mc;  // before rk goes: see ~MockCluster
  std::string bootstrap;
};

MockCluster::MockCluster() : impl_(std::make_unique<Impl>()) {}

MockCluster::~MockCluster() {
  impl_->mc.reset();  // the cluster first, then the handle hosting it
  impl_->rk.reset();
}

std::unique_ptr<MockCluster> MockCluster::start(const std::vector<std::string>& topics,
                                                int partitions, std::string& err) {
  std::unique_ptr<MockCluster> m(new MockCluster());
  char errstr[512];
  kafka::Conf conf(rd_kafka_conf_new());
  rd_kafka_conf_set_log_cb(conf.get(), kafka::log_cb);
  rd_kafka_conf_set(conf.get(), "log_level", "3", errstr,
                    sizeof errstr);  // the handle only hosts the cluster
  m->impl_->rk.reset(rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), errstr, sizeof errstr));
  if (!m->impl_->rk) {
    err = std::string("mock cluster: ") + errstr;
    return nullptr;
  }
  conf.release();  // the handle owns it now
  m->impl_->mc.reset(rd_kafka_mock_cluster_new(m->impl_->rk.get(), 1));
  if (!m->impl_->mc) {
    err = "mock cluster: cannot start";
    return nullptr;
  }
  for (const auto& t : topics)
    if (!m->create_topic(t, partitions, err)) return nullptr;
  m->impl_->bootstrap = rd_kafka_mock_cluster_bootstraps(m->impl_->mc.get());
  return m;
}

const std::string& MockCluster::bootstrap() const { return impl_->bootstrap; }

bool MockCluster::create_topic(const std::string& topic, int partitions, std::string& err) {
  rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(impl_->mc.get(), topic.c_str(), partitions, 1);
  if (e) {
    err = "mock cluster: cannot create topic " + topic + ": " + rd_kafka_err2str(e);
    return false;
  }
  return true;
}

}  // namespace vigil::connectors

// Owners of librdkafka handles: std::unique_ptr with a deleter that calls the matching
// rd_kafka_*_destroy, so that no path (an early error return included) leaks a handle or destroys
// one twice. Private to connectors/kafka/.
//
// Contract: an owner holds one handle or none; release() hands the handle to librdkafka where a
// call takes ownership (rd_kafka_new takes the configuration only when it succeeds). The deleters
// are empty, so an owner is exactly a pointer: messages move through the consumer's buffers at
// the cost of a raw pointer.
#pragma once

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <memory>

namespace vigil::connectors::kafka {

struct HandleDeleter {
  void operator()(rd_kafka_t* p) const noexcept { rd_kafka_destroy(p); }
  void operator()(rd_kafka_conf_t* p) const noexcept { rd_kafka_conf_destroy(p); }
  void operator()(rd_kafka_queue_t* p) const noexcept { rd_kafka_queue_destroy(p); }
  void operator()(rd_kafka_topic_partition_list_t* p) const noexcept {
    rd_kafka_topic_partition_list_destroy(p);
  }
  void operator()(rd_kafka_message_t* p) const noexcept { rd_kafka_message_destroy(p); }
  void operator()(rd_kafka_error_t* p) const noexcept { rd_kafka_error_destroy(p); }
  void operator()(rd_kafka_headers_t* p) const noexcept { rd_kafka_headers_destroy(p); }
  void operator()(rd_kafka_mock_cluster_t* p) const noexcept { rd_kafka_mock_cluster_destroy(p); }
};

using Client = std::unique_ptr<rd_kafka_t, HandleDeleter>;  // a consumer or producer
using Conf = std::unique_ptr<rd_kafka_conf_t, HandleDeleter>;
using Queue = std::unique_ptr<rd_kafka_queue_t, HandleDeleter>;
using PartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, HandleDeleter>;
using Message = std::unique_ptr<rd_kafka_message_t, HandleDeleter>;
using Error = std::unique_ptr<rd_kafka_error_t, HandleDeleter>;  // null: no error
using Headers = std::unique_ptr<rd_kafka_headers_t, HandleDeleter>;
using MockClusterHandle = std::unique_ptr<rd_kafka_mock_cluster_t, HandleDeleter>;

static_assert(sizeof(Message) == sizeof(rd_kafka_message_t*), "an owned message costs one pointer");

}  // namespace vigil::connectors::kafka

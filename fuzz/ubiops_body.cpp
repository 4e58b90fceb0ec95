// UbiOps time-series data bodies (POST .../time-series/data and .../aggregate) against a
// project of two metrics, and the dialect's texts: dates, label filters, encoded labels.
#include <string>

#include "api/ubiops/codec.hpp"
#include "api/ubiops/entries.hpp"
#include "fuzz/fuzz.hpp"

using namespace vigil;
using namespace vigil::api::ubiops;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto s = fuzz::text(data, size);
  static const std::vector<MetricDef> defs = [] {
    MetricDef a;
    a.id = 1;
    a.project = "p";
    a.name = "custom.requests";
    a.metric_type = "delta";
    a.labels = {"deployment", "env"};
    MetricDef b = a;
    b.id = 2;
    b.name = "custom.latency";
    b.metric_type = "gauge";
    b.labels = {"deployment"};
    return std::vector<MetricDef>{a, b};
  }();
  auto body = nlohmann::json::parse(s.begin(), s.end(), nullptr, false);
  if (!body.is_discarded() && (body.is_array() || body.is_object())) {
    for (bool aggregate : {false, true}) {
      std::vector<Entry> entries;
      auto e = parse_entries(body, defs, aggregate, fuzz::kNow * 1000000LL, 1000, entries);
      if (e) {
        VIGIL_FUZZ_CHECK(e->status == 400 || e->status == 413, "an entry refusal is 400 or 413");
        VIGIL_FUZZ_CHECK(!e->field.empty() && !e->message.empty(), "a refusal names its field");
      } else {
        for (const auto& en : entries) {
          VIGIL_FUZZ_CHECK(en.def < defs.size(), "an entry names a metric of the project");
          VIGIL_FUZZ_CHECK(!en.tags.empty(), "a series has tags");
          for (const auto& [minute, v] : en.points) VIGIL_FUZZ_CHECK(minute % 60 == 0, "points on minutes");
        }
      }
    }
    return 0;
  }
  if (auto us = parse_date(s)) (void)format_micros(*us);
  std::vector<std::pair<std::string, std::string>> filter;
  (void)parse_label_filter(s, filter);
  (void)decode_label(s);
  const std::string enc = encode_label(s);
  auto back = decode_label(enc);
  VIGIL_FUZZ_CHECK(back && *back == s, "encode_label is reversible");
  Tags tags;
  if (labels_to_tags({{std::string(s), "v"}}, tags).empty()) {
    std::vector<std::pair<std::string, std::string>> labels;
    VIGIL_FUZZ_CHECK(tags_to_labels(tags, labels), "encoded labels decode");
    VIGIL_FUZZ_CHECK(labels.size() == 1 && labels[0].first == s, "the label comes back");
  }
  (void)valid_project_name(s);
  (void)check_metric_name(s);
  return 0;
}

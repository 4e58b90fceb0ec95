#include "api/scale/choices.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "engine/meta/catalog.hpp"
#include "engine/meta/doc_store.hpp"
#include "engine/model/limits.hpp"
#include "engine/model/text.hpp"
#include "engine/query/query.hpp"

namespace vigil::api::scale {

bool ChoiceIds::ids(const std::string& tag, const std::vector<std::string>& values,
                    std::vector<std::uint64_t>& out, std::string& err) {
  std::lock_guard lock(mu_);
  out.clear();
  out.reserve(values.size());
  for (const auto& v : values) {
    std::string cache_key = tag;
    cache_key += '\0';
    cache_key += v;
    if (auto it = cache_.find(cache_key); it != cache_.end()) {
      out.push_back(it->second);
      continue;
    }
    const std::string doc_key = "scale/choice/" + tag + "/" + v;
    std::uint64_t id = 0;
    auto doc = docs_.get(doc_key);
    if (doc && doc->is_object() && doc->contains("id") && doc->at("id").is_number_unsigned()) {
      id = doc->at("id").get<std::uint64_t>();
    } else {
      id = docs_.allocate_id("scale-choice", err);
      if (id == 0) return false;
      if (!docs_.put(doc_key, nlohmann::json{{"id", id}, {"tag", tag}, {"value", v}}, err))
        return false;
    }
    cache_.emplace(std::move(cache_key), id);
    out.push_back(id);
  }
  return true;
}

std::ptrdiff_t TypeSeries::find(std::uint64_t id) const {
  for (std::size_t i = 0; i < choices.size(); ++i)
    if (choices[i].id == id) return static_cast<std::ptrdiff_t>(i);
  return -1;
}

bool discover(SeriesReader& reader, const config::ScaleMetricType& type, ChoiceIds& ids,
              TypeSeries& out, std::string& err) {
  const std::string tag = ascii_lower(type.choice_tag);
  // Per value: the tags shared so far (nullopt-like: `seen` false until the first series).
  struct Acc {
    bool seen = false;
    std::vector<std::pair<std::string, std::string>> shared;
  };
  std::map<std::string, Acc> by_value;
  std::vector<std::vector<std::pair<std::uint64_t, std::string>>> column_series(
      type.columns.size());
  std::map<std::string, std::vector<SeriesRef>> by_metric;  // columns often share a metric
  for (std::size_t c = 0; c < type.columns.size(); ++c) {
    const std::string key = metric_key(type.columns[c].metric);
    auto it = by_metric.find(key);
    if (it == by_metric.end()) it = by_metric.emplace(key, reader.series_of(key)).first;
    for (const auto& ref : it->second) {
      const std::string* value = find_tag(ref.tags, tag);
      if (value == nullptr) continue;
      Acc& acc = by_value[*value];
      if (!acc.seen) {
        acc.seen = true;
        for (const auto& t : ref.tags)
          if (t.first != tag) acc.shared.push_back(t);
      } else {
        std::erase_if(acc.shared, [&](const std::pair<std::string, std::string>& t) {
          const std::string* v = find_tag(ref.tags, t.first);
          return v == nullptr || *v != t.second;
        });
      }
      column_series[c].emplace_back(ref.id, *value);
    }
  }
  std::vector<std::string> names;
  names.reserve(by_value.size());
  for (const auto& [name, acc] : by_value) names.push_back(name);
  std::vector<std::uint64_t> assigned;
  if (!ids.ids(tag, names, assigned, err)) return false;
  out.choices.clear();
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < names.size(); ++i) {
    index.emplace(names[i], i);
    out.choices.push_back(Choice{assigned[i], names[i], std::move(by_value[names[i]].shared)});
  }
  out.columns.assign(type.columns.size(), {});
  for (std::size_t c = 0; c < column_series.size(); ++c)
    for (auto& [id, value] : column_series[c]) out.columns[c].emplace_back(id, index[value]);
  return true;
}

}  // namespace vigil::api::scale

// The choices of a metrics type: the distinct values of its choice tag among the series of its
// columns' metrics, each with a stable id, and the tags every series of that value shares.
//
// Ids are assigned on first sight, one counter for all types, and persisted in the document
// store under `scale/choice/<tag>/<value>`: they survive restarts, never change and are never
// reused. Types grouping by the same tag give a value the same id. A value whose series are all
// removed keeps its id, and has it again when its series come back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "config/config.hpp"

namespace vigil {
class DocStore;
class SeriesReader;
}  // namespace vigil

namespace vigil::api::scale {

class ChoiceIds {
 public:
  explicit ChoiceIds(DocStore& docs) : docs_(docs) {}

  // The id of each of `values` of tag `tag`, in order; values seen for the first time get the
  // next ids, durably, before this returns. False (with `err`) when the store failed.
  bool ids(const std::string& tag, const std::vector<std::string>& values,
           std::vector<std::uint64_t>& out, std::string& err);

 private:
  DocStore& docs_;
  std::mutex mu_;                               // one assignment at a time, so a value gets one id
  std::map<std::string, std::uint64_t> cache_;  // tag '\0' value -> id
};

struct Choice {
  std::uint64_t id = 0;
  std::string name;  // the tag value (stored lower-cased)
  // The tags (other than the choice tag) with one value on every series of the choice, by name.
  std::vector<std::pair<std::string, std::string>> shared;
};

struct TypeSeries {
  std::vector<Choice> choices;  // by name
  // Per column of the type: (series id, index in `choices`) of each series of its metric that
  // carries the choice tag.
  std::vector<std::vector<std::pair<std::uint64_t, std::size_t>>> columns;

  // The index in `choices` of the choice with this id, or -1.
  std::ptrdiff_t find(std::uint64_t id) const;
};

// The choices and column series of `type` as they are now; false (with `err`) when the ids could
// not be stored. A storage error of the reader is left in its status().
bool discover(SeriesReader& reader, const config::ScaleMetricType& type, ChoiceIds& ids,
              TypeSeries& out, std::string& err);

}  // namespace vigil::api::scale

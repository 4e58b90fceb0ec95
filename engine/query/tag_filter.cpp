#include "engine/query/tag_filter.hpp"

#include <algorithm>

#include "engine/model/text.hpp"

namespace vigil {

namespace {

std::string lowered(std::string_view s) { return ascii_lower(s); }

bool tag_glob(std::string_view pattern, std::string_view value) {
  return glob_match(pattern, value, QuestionMark::literal);
}

}  // namespace

TagFilter::TagFilter(const std::vector<std::pair<std::string, std::string>>& patterns) {
  for (const auto& [name, pattern] : patterns) add(name, pattern);
}

TagFilter::Clause& TagFilter::clause(std::string_view name) {
  bool absent = name.size() > 1 && name.front() == '!';
  if (absent) name.remove_prefix(1);
  std::string key = lowered(name);
  for (auto& c : clauses_)
    if (c.name == key && c.absent == absent) return c;
  clauses_.push_back(Clause{std::move(key), {}, {}, absent});
  return clauses_.back();
}

void TagFilter::add(std::string_view name, std::string_view pattern) {
  Clause& c = clause(name);
  if (!pattern.empty() && pattern.front() == '!')
    c.negative.push_back(lowered(pattern.substr(1)));
  else
    c.positive.push_back(lowered(pattern));
}

void TagFilter::require(std::string_view name) { clause(name); }

bool TagFilter::matches(const Tags& tags) const {
  for (const auto& c : clauses_) {
    const std::string* v = find_tag(tags, c.name);
    if (c.absent) {
      if (v != nullptr) return false;
      continue;
    }
    if (v == nullptr) return false;
    if (!c.positive.empty() &&
        std::none_of(c.positive.begin(), c.positive.end(),
                     [&](const std::string& p) { return tag_glob(p, *v); }))
      return false;
    if (std::any_of(c.negative.begin(), c.negative.end(),
                    [&](const std::string& p) { return tag_glob(p, *v); }))
      return false;
  }
  return true;
}

std::vector<std::pair<std::string, std::string>> TagFilter::exact_clauses() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& c : clauses_)
    if (!c.absent && c.positive.size() == 1 && c.positive[0].find('*') == std::string::npos)
      out.emplace_back(c.name, c.positive[0]);
  return out;
}

void SourceFilter::set_pattern(std::string_view pattern) {
  has_pattern_ = true;
  pattern_ = lowered(pattern);
}

void SourceFilter::add_source(std::string_view name) { sources_.push_back(lowered(name)); }

bool SourceFilter::matches(const Tags& tags) const {
  if (empty()) return true;
  const std::string* v = find_tag(tags, "source");
  if (v == nullptr) return false;
  if (has_pattern_ && !tag_glob(pattern_, *v)) return false;
  if (!sources_.empty() && std::find(sources_.begin(), sources_.end(), *v) == sources_.end())
    return false;
  return true;
}

}  // namespace vigil

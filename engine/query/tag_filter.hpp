// Series selection by tag values: clauses of tag name and value pattern (Librato's
// `tags[name]=pattern` of GET /v1/measurements) and lists of sources (Librato's legacy `sources[]`).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/model/glob.hpp"
#include "engine/model/model.hpp"

namespace vigil {

// Tag patterns are globs with `*` only (engine/model/glob.hpp, QuestionMark::literal).

// A conjunction of per-tag clauses. Patterns given for the same tag name form one clause:
//   - a series must carry the tag;
//   - its value must match at least one positive pattern (if the clause has any; OR);
//   - and must match none of the negated patterns (those written with a leading `!`).
// A tag name written with a leading `!` (Librato's `!host`) is the opposite clause: the series
// must not carry that tag; its patterns are ignored.
// Clauses for different tag names are ANDed. An empty filter matches every series.
class TagFilter {
 public:
  TagFilter() = default;
  explicit TagFilter(const std::vector<std::pair<std::string, std::string>>& patterns);

  // Adds `pattern` for tag `name` (names are compared lower-cased).
  void add(std::string_view name, std::string_view pattern);
  // Requires tag `name` to be present, whatever its value (used for group_by tags).
  void require(std::string_view name);

  bool empty() const { return clauses_.empty(); }
  bool matches(const Tags& tags) const;
  // (name, value) of each clause that admits exactly one value (one positive pattern without
  // `*`): a series must carry that tag with that value (lower-cased), so an index can select
  // candidates by it before matches() decides.
  std::vector<std::pair<std::string, std::string>> exact_clauses() const;

 private:
  struct Clause {
    std::string name;
    std::vector<std::string> positive;
    std::vector<std::string> negative;
    bool absent = false;  // the series must not carry the tag
  };
  Clause& clause(std::string_view name);
  std::vector<Clause> clauses_;
};

// The legacy source filter: `source=pattern` (wildcards) and/or `sources[]=name` (exact names,
// ORed). Both may be given; a series must then satisfy both. Series without a `source` tag only
// match an empty filter.
class SourceFilter {
 public:
  void set_pattern(std::string_view pattern);
  void add_source(std::string_view name);

  bool empty() const { return !has_pattern_ && sources_.empty(); }
  bool matches(const Tags& tags) const;

 private:
  bool has_pattern_ = false;
  std::string pattern_;
  std::vector<std::string> sources_;  // lower-cased
};

}  // namespace vigil

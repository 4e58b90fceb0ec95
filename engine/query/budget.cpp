#include "engine/query/budget.hpp"

#include <limits>

#include "engine/model/model.hpp"
#include "engine/stats/prom_text.hpp"

namespace vigil {

const char* to_string(QueryLimit limit) {
  switch (limit) {
    case QueryLimit::series: return "series";
    case QueryLimit::points: return "points";
    case QueryLimit::deadline: return "deadline";
    default: return "concurrency";
  }
}

const char* setting_of(QueryLimit limit) {
  switch (limit) {
    case QueryLimit::series: return "query.max_series";
    case QueryLimit::points: return "query.max_read_points";
    case QueryLimit::deadline: return "query.timeout_ms";
    default: return "query.max_concurrent";
  }
}

std::uint64_t estimate_points(std::size_t series, std::int64_t res, std::int64_t from, std::int64_t to) {
  if (series == 0 || from > to) return 0;
  if (res < 1) res = 1;
  // Bucket starts are multiples of res; the time window keeps the difference far from overflow.
  const auto buckets = static_cast<std::uint64_t>((floor_to(to, res) - floor_to(from, res)) / res) + 1;
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  if (buckets > kMax / series) return kMax;
  return buckets * series;
}

QueryBudget::QueryBudget(QueryGovernor& governor, const QueryLimits& limits)
    : governor_(&governor), limits_(limits) {
  if (limits.timeout_ms > 0) {
    has_deadline_ = true;
    deadline_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(limits.timeout_ms);
  }
}

QueryBudget::~QueryBudget() {
  if (governor_ != nullptr) governor_->release();
}

void QueryBudget::refuse(QueryLimit limit, std::string message) const {
  if (governor_ != nullptr && !refused_.exchange(true)) governor_->count_refusal(limit);
  throw QueryRefused(limit, std::move(message));
}

void QueryBudget::refuse_deadline() const {
  refuse(QueryLimit::deadline, "the query ran longer than query.timeout_ms (" + std::to_string(limits_.timeout_ms) +
                                   " ms): narrow it, or retry when the server is less busy");
}

void QueryBudget::plan(std::size_t series, std::int64_t res, std::int64_t from, std::int64_t to) {
  plan_points(series, estimate_points(series, res, from, to));
}

void QueryBudget::plan_points(std::size_t series, std::uint64_t points) {
  check_deadline();
  const std::size_t total_series = series_ + series;
  if (limits_.max_series > 0 && total_series > limits_.max_series)
    refuse(QueryLimit::series, "the query reads " + std::to_string(total_series) +
                                   " series, more than query.max_series (" + std::to_string(limits_.max_series) +
                                   "): select fewer series (tag filters) or raise the setting");
  const std::uint64_t total_points =
      points > std::numeric_limits<std::uint64_t>::max() - points_ ? std::numeric_limits<std::uint64_t>::max()
                                                                    : points_ + points;
  if (limits_.max_points > 0 && total_points > limits_.max_points)
    refuse(QueryLimit::points, "the query would read up to " + std::to_string(total_points) +
                                   " points (series x buckets of the time range at the resolution), more than "
                                   "query.max_read_points (" + std::to_string(limits_.max_points) +
                                   "): narrow the time range, raise the resolution or select fewer series");
  series_ = total_series;
  points_ = total_points;
}

QueryBudget QueryGovernor::begin() {
  const std::size_t before = running_.fetch_add(1, std::memory_order_relaxed);
  if (limits_.max_concurrent > 0 && before >= limits_.max_concurrent) {
    running_.fetch_sub(1, std::memory_order_relaxed);
    count_refusal(QueryLimit::concurrency);
    throw QueryRefused(QueryLimit::concurrency,
                       std::to_string(limits_.max_concurrent) + " queries are running, the limit of query.max_concurrent (" +
                           std::to_string(limits_.max_concurrent) + "): retry shortly");
  }
  return QueryBudget(*this, limits_);
}

void QueryGovernor::metrics_text(std::string& out) const {
  prom::head(out, "vigil_query_refused_total", "counter",
             "Query requests refused, by the limit they met (query.max_series, query.max_read_points, "
             "query.timeout_ms, query.max_concurrent).");
  for (std::size_t i = 0; i < kQueryLimitCount; ++i)
    prom::sample(out, "vigil_query_refused_total", "limit", to_string(static_cast<QueryLimit>(i)),
                 refused_[i].load(std::memory_order_relaxed));
  prom::metric(out, "vigil_queries_running", "gauge", "Query requests holding a query.max_concurrent slot.",
               running());
}

}  // namespace vigil

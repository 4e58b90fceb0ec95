// The cost bounds of queries, shared by every dialect: the series a request may read, the points
// it may read (series x buckets of the time range at the resolution, estimated before anything is
// read), its deadline, and how many requests may query at once. A request takes one QueryBudget
// from the engine's QueryGovernor (the concurrency slot is held as long as the budget lives), and
// every read it makes, however many series sets or functions it has (a composite), charges that one
// budget. A refusal is a QueryRefused exception naming the limit and its setting; the router maps
// it to the dialect's own error body (api/dialect.hpp).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <utility>

namespace vigil {

struct QueryLimits {
  std::size_t max_series = 100'000;        // query.max_series: series one request reads
  std::uint64_t max_points = 10'000'000;   // query.max_read_points: estimated points one request reads
  std::int64_t timeout_ms = 30'000;        // query.timeout_ms: from admission to the last read
  std::size_t max_concurrent = 16;         // query.max_concurrent: requests querying at once
};

enum class QueryLimit : std::uint8_t { series, points, deadline, concurrency };
inline constexpr std::size_t kQueryLimitCount = 4;
// "series", "points", "deadline", "concurrency" (the label of vigil_query_refused_total).
const char* to_string(QueryLimit limit);
// The setting of a limit: "query.max_series", "query.max_read_points", "query.timeout_ms",
// "query.max_concurrent".
const char* setting_of(QueryLimit limit);

class QueryRefused : public std::exception {
 public:
  QueryRefused(QueryLimit limit, std::string message) : limit_(limit), message_(std::move(message)) {}
  QueryLimit limit() const { return limit_; }
  // 400 for a query that asks too much (series, points): narrowing it helps, retrying does not;
  // 503 (with Retry-After) for the deadline and the concurrency limit, which depend on the load.
  int status() const { return limit_ == QueryLimit::series || limit_ == QueryLimit::points ? 400 : 503; }
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  QueryLimit limit_;
  std::string message_;
};

// Points a read of `series` series at resolution `res` over [from, to] may produce: series times
// the buckets floor_to(from, res) .. floor_to(to, res); raw samples count as resolution 1 (one a
// second). Saturates instead of overflowing.
std::uint64_t estimate_points(std::size_t series, std::int64_t res, std::int64_t from, std::int64_t to);

class QueryGovernor;

// One request's budget. Charges come from the request's thread; check_deadline may be called from
// the query helper threads too.
class QueryBudget {
 public:
  // Unlimited and outside the governor (tests, internal reads).
  QueryBudget() = default;
  ~QueryBudget();
  QueryBudget(const QueryBudget&) = delete;
  QueryBudget& operator=(const QueryBudget&) = delete;

  // Charges a read of `series` series at `res` over [from, to] (estimate_points), before it is
  // made: throws QueryRefused when the request's series or points would go over their limit.
  void plan(std::size_t series, std::int64_t res, std::int64_t from, std::int64_t to);
  void plan_points(std::size_t series, std::uint64_t points);
  // Throws QueryRefused(deadline) once the request has run longer than query.timeout_ms.
  void check_deadline() const {
    if (has_deadline_ && std::chrono::steady_clock::now() > deadline_) refuse_deadline();
  }

  std::size_t series() const { return series_; }
  std::uint64_t points() const { return points_; }

 private:
  friend class QueryGovernor;
  QueryBudget(QueryGovernor& governor, const QueryLimits& limits);
  [[noreturn]] void refuse(QueryLimit limit, std::string message) const;
  [[noreturn]] void refuse_deadline() const;

  QueryGovernor* governor_ = nullptr;  // null: unlimited, no slot held
  QueryLimits limits_{0, 0, 0, 0};     // 0: unlimited
  bool has_deadline_ = false;
  std::chrono::steady_clock::time_point deadline_{};
  std::size_t series_ = 0;
  std::uint64_t points_ = 0;
  mutable std::atomic<bool> refused_{false};  // counted once per request
};

// The limits and the running count, one per engine; thread-safe.
class QueryGovernor {
 public:
  explicit QueryGovernor(const QueryLimits& limits = {}) : limits_(limits) {}

  // A budget for one request, holding one of the max_concurrent slots until it is destroyed;
  // throws QueryRefused(concurrency) when every slot is taken (it does not wait).
  QueryBudget begin();

  const QueryLimits& limits() const { return limits_; }
  std::size_t running() const { return running_.load(std::memory_order_relaxed); }
  std::uint64_t refused(QueryLimit limit) const {
    return refused_[static_cast<std::size_t>(limit)].load(std::memory_order_relaxed);
  }
  // vigil_query_refused_total{limit} and vigil_queries_running, in Prometheus text.
  void metrics_text(std::string& out) const;

 private:
  friend class QueryBudget;
  void count_refusal(QueryLimit limit) {
    refused_[static_cast<std::size_t>(limit)].fetch_add(1, std::memory_order_relaxed);
  }
  void release() { running_.fetch_sub(1, std::memory_order_relaxed); }

  QueryLimits limits_;
  std::atomic<std::size_t> running_{0};
  std::array<std::atomic<std::uint64_t>, kQueryLimitCount> refused_{};
};

}  // namespace vigil

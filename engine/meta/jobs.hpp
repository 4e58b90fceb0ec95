// Jobs: work that takes longer than a request (large batch updates and deletes of metrics) runs
// on one background thread; its state is kept in memory and persisted in the `meta` column family
// under `job/<id>` (queued, working, complete, failed; progress; errors), so GET /v1/jobs/:id
// answers across restarts. Jobs interrupted by a restart are marked failed at the next start.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "engine/meta/persisted_map.hpp"
#include "engine/storage/status.hpp"

namespace vigil {

class Storage;

enum class JobState { queued, working, complete, failed };
const char* job_state_name(JobState s);

struct JobInfo {
  std::uint64_t id = 0;
  JobState state = JobState::queued;
  double progress = 0;  // 0..100
  // Errors by name (Librato: {"name": ["is invalid"]}); a failed job has at least one.
  std::map<std::string, std::vector<std::string>> errors;
  std::int64_t created = 0;
};

class JobTable {
 public:
  // Reports progress (0..100) and errors while a job runs.
  class Context {
   public:
    void progress(double percent);
    void error(const std::string& name, const std::string& message);

   private:
    friend class JobTable;
    Context(JobTable& table, std::uint64_t id) : table_(table), id_(id) {}
    JobTable& table_;
    std::uint64_t id_;
  };
  // The work of a job; returning false (or reporting errors) makes the job failed.
  using Work = std::function<bool(Context&)>;

  explicit JobTable(Storage& storage, std::size_t keep = 1000);
  ~JobTable();

  // Loads stored jobs (those left queued or working become failed) and starts the worker; not
  // OK (and no worker) when the stored jobs could not be read.
  Status start();
  // Finishes the running job, drops the queued ones (they are failed at the next start), joins.
  void stop();

  // Queues work; the job id (0 if the job could not be stored: `err`).
  std::uint64_t submit(Work work, std::int64_t now, std::string& err);
  std::optional<JobInfo> get(std::uint64_t id) const;

 private:
  void run();
  void persist(const JobInfo& job);
  void set_progress(std::uint64_t id, double p);
  void add_error(std::uint64_t id, const std::string& name, const std::string& message);

  struct Codec : BigEndianId {
    static std::string encode(const JobInfo& j);
    static bool decode(std::string_view s, JobInfo& j);
  };

  std::size_t keep_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  PersistedMap<std::uint64_t, JobInfo, Codec> jobs_;
  std::deque<std::pair<std::uint64_t, Work>> queue_;
  std::uint64_t next_id_ = 1;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace vigil

// The actor runtime: owns the CAF actor system that hosts Vigil's series shards.
#pragma once

namespace vigil::actors {

// Number of worker threads the actor scheduler would use by default on this machine.
int default_scheduler_threads();

}  // namespace vigil::actors

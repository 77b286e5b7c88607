#pragma once
// Handle -> route for threads outside the control loop (media workers, mixer threads): an
// immutable map that the control loop replaces on every change (copy on write). A reader pays
// one atomic load of the snapshot, no lock, whichever thread it is on.
#include <atomic>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "core/gateway/plugin.h"

namespace junction::plugins {

template <typename Route>
class RouteTable {
 public:
  using Map = std::unordered_map<plugin::HandleId, Route>;

  void set(plugin::HandleId handle, Route route) {  // control loop
    std::lock_guard lock(write_mutex_);
    auto next = std::make_shared<Map>(*map_.load());
    (*next)[handle] = std::move(route);
    map_.store(std::move(next));
  }
  void erase(plugin::HandleId handle) {  // control loop
    std::lock_guard lock(write_mutex_);
    auto current = map_.load();
    if (current->count(handle) == 0) return;
    auto next = std::make_shared<Map>(*current);
    next->erase(handle);
    map_.store(std::move(next));
  }
  void clear() {
    std::lock_guard lock(write_mutex_);
    map_.store(std::make_shared<const Map>());
  }
  std::shared_ptr<const Map> snapshot() const { return map_.load(); }  // any thread

 private:
  std::mutex write_mutex_;  // writers only
  std::atomic<std::shared_ptr<const Map>> map_{std::make_shared<const Map>()};
};

}  // namespace junction::plugins

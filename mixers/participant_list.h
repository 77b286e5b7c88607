#pragma once
// A mixer's participants as an immutable list replaced on every change (copy on write): the mixer
// thread takes the pointer once per tick and works on it without the mixer's lock, while joins
// and leaves (rare) copy the small list. The caller holds its mixer's lock around these.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

namespace junction::mixers {

template <typename P>
using ParticipantList = std::vector<std::shared_ptr<P>>;

// `list` without the participant `id`, and with `added` at the end when it is given.
template <typename P>
std::shared_ptr<const ParticipantList<P>> replaced(const ParticipantList<P>& list, uint64_t id,
                                                   std::shared_ptr<P> added = nullptr) {
  auto next = std::make_shared<ParticipantList<P>>(list);
  next->erase(std::remove_if(next->begin(), next->end(), [id](const auto& q) { return q->id() == id; }), next->end());
  if (added) next->push_back(std::move(added));
  return next;
}

template <typename P>
std::shared_ptr<P> find_participant(const ParticipantList<P>& list, uint64_t id) {
  for (const auto& p : list)
    if (p->id() == id) return p;
  return nullptr;
}

}  // namespace junction::mixers

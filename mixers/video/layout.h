#pragma once
// Where each participant's picture goes on the canvas: a pure function of the participants (in
// join order), the receiver's view and the room's active speaker. The mixer thread runs it for
// every receiver each tick (receivers with equal results share an encode); the plugin runs it on
// its control loop to describe the composition to clients (the `layout` event).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace junction::mixers {

enum class LayoutKind : uint8_t { kGrid, kSpeaker, kPresenter };

std::optional<LayoutKind> layout_from_name(const std::string& name);
const char* layout_name(LayoutKind kind);

struct View {
  LayoutKind kind = LayoutKind::kGrid;
  bool show_self = true;
  uint64_t presenter = 0;  // kPresenter: who is large (0 or absent: the active speaker)
};

struct Tile {
  uint64_t participant = 0;
  int x = 0, y = 0, width = 0, height = 0;  // even numbers, inside the canvas
  bool operator==(const Tile&) const = default;
};

// `participants` in join order; `self` is the receiver (left out when !view.show_self);
// `speaker` is the active speaker (0: none yet). Grid: cols x cols cells for 1, 4, 9, 16
// participants (more than 16: the first 16). Speaker / presenter: the large tile first (the top
// three quarters), then the others as thumbnails along the bottom quarter.
std::vector<Tile> compute_layout(int width, int height, const std::vector<uint64_t>& participants, uint64_t self,
                                 const View& view, uint64_t speaker);

// Where a `src_w` x `src_h` picture goes inside `tile`, keeping its aspect ratio (centered, even
// coordinates, at least 2x2).
Tile fit_inside(const Tile& tile, int src_w, int src_h);

}  // namespace junction::mixers

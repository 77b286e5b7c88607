#include "mixers/video/layout.h"

#include <algorithm>

namespace junction::mixers {
namespace {

int even(int v) { return v & ~1; }

}  // namespace

std::optional<LayoutKind> layout_from_name(const std::string& name) {
  if (name == "grid") return LayoutKind::kGrid;
  if (name == "speaker") return LayoutKind::kSpeaker;
  if (name == "presenter") return LayoutKind::kPresenter;
  return std::nullopt;
}

const char* layout_name(LayoutKind kind) {
  switch (kind) {
    case LayoutKind::kSpeaker: return "speaker";
    case LayoutKind::kPresenter: return "presenter";
    default: return "grid";
  }
}

std::vector<Tile> compute_layout(int width, int height, const std::vector<uint64_t>& participants, uint64_t self,
                                 const View& view, uint64_t speaker) {
  std::vector<uint64_t> shown;
  shown.reserve(participants.size());
  for (uint64_t p : participants)
    if (view.show_self || p != self) shown.push_back(p);
  if (shown.size() > 16) shown.resize(16);
  std::vector<Tile> tiles;
  if (shown.empty()) return tiles;
  tiles.reserve(shown.size());
  if (view.kind == LayoutKind::kGrid) {
    const int n = static_cast<int>(shown.size());
    const int cols = n <= 1 ? 1 : n <= 4 ? 2 : n <= 9 ? 3 : 4;
    const int cw = even(width / cols), ch = even(height / cols);
    for (int i = 0; i < n; ++i)
      tiles.push_back({shown[static_cast<size_t>(i)], (i % cols) * cw, (i / cols) * ch, cw, ch});
    return tiles;
  }
  auto in = [&](uint64_t id) { return id != 0 && std::find(shown.begin(), shown.end(), id) != shown.end(); };
  uint64_t large = shown.front();
  if (view.kind == LayoutKind::kPresenter && in(view.presenter)) large = view.presenter;
  else if (in(speaker)) large = speaker;
  const int strip = even(height / 4);
  tiles.push_back({large, 0, 0, even(width), even(height - strip)});
  const int others = static_cast<int>(shown.size()) - 1;
  const int tw = even(width / std::max(4, others));
  int k = 0;
  for (uint64_t p : shown)
    if (p != large) tiles.push_back({p, (k++) * tw, even(height - strip), tw, strip});
  return tiles;
}

Tile fit_inside(const Tile& tile, int src_w, int src_h) {
  Tile out = tile;
  if (src_w <= 0 || src_h <= 0) return out;
  // The largest size of the source's shape that fits: compare tile.w/tile.h with src_w/src_h.
  int64_t w = tile.width, h = tile.height;
  if (w * src_h > h * src_w) w = h * src_w / src_h;  // the tile is wider: bars left and right
  else h = w * src_h / src_w;                         // taller: bars above and below
  out.width = std::max(2, even(static_cast<int>(w)));
  out.height = std::max(2, even(static_cast<int>(h)));
  out.x = tile.x + even((tile.width - out.width) / 2);
  out.y = tile.y + even((tile.height - out.height) / 2);
  return out;
}

}  // namespace junction::mixers

#include "core/media/simulcast.h"

#include <algorithm>

namespace junction::media {
namespace {

// The send list of an a=simulcast value ("send h;m;l recv x" -> {"h", "m", "l"}).
std::vector<std::string> send_list(std::string_view value) {
  std::vector<std::string_view> tokens;
  size_t pos = 0;
  while (pos < value.size()) {
    size_t begin = value.find_first_not_of(' ', pos);
    if (begin == std::string_view::npos) break;
    size_t end = std::min(value.find(' ', begin), value.size());
    tokens.push_back(value.substr(begin, end - begin));
    pos = end;
  }
  std::vector<std::string> out;
  for (size_t i = 0; i + 1 < tokens.size(); ++i) {
    if (tokens[i] != "send") continue;
    std::string_view list = tokens[i + 1];
    while (!list.empty()) {
      size_t semi = std::min(list.find(';'), list.size());
      std::string_view stream = list.substr(0, semi);
      stream = stream.substr(0, std::min(stream.find(','), stream.size()));  // first alternative
      if (!stream.empty() && stream.front() == '~') stream.remove_prefix(1);   // paused
      if (!stream.empty()) out.emplace_back(stream);
      list.remove_prefix(std::min(semi + 1, list.size()));
    }
    break;
  }
  return out;
}

}  // namespace

int SimulcastLayers::substream_of_rid(std::string_view rid) const {
  auto it = std::find(rids.begin(), rids.end(), rid);
  return it == rids.end() || rid.empty() ? -1 : static_cast<int>(it - rids.begin());
}

int SimulcastLayers::substream_of_ssrc(uint32_t ssrc) const {
  auto it = std::find(ssrcs.begin(), ssrcs.end(), ssrc);
  return it == ssrcs.end() ? -1 : static_cast<int>(it - ssrcs.begin());
}

SimulcastLayers simulcast_layers(const MediaSection& section, bool lowest_first) {
  SimulcastLayers layers;
  if (section.kind != "video") return layers;
  for (const std::string& rid : send_list(section.simulcast)) {
    bool announced = std::any_of(section.rids.begin(), section.rids.end(),
                                 [&](const Rid& r) { return r.id == rid && r.direction == "send"; });
    if (announced && layers.rids.size() < 4) layers.rids.push_back(rid);
  }
  if (layers.rids.size() < 2) layers.rids.clear();  // one "layer" is no simulcast
  if (!lowest_first) std::reverse(layers.rids.begin(), layers.rids.end());
  if (layers.rids.empty())
    for (const SsrcGroup& group : section.ssrc_groups)
      if (group.semantics == "SIM" && group.ssrcs.size() >= 2 && group.ssrcs.size() <= 4) {
        layers.ssrcs = group.ssrcs;
        break;
      }
  return layers;
}

}  // namespace junction::media

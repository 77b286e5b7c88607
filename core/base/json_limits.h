#pragma once
#include <cstddef>
#include <string_view>

namespace junction {

// The deepest nesting of arrays and objects in a JSON text, counting brackets outside strings.
// Used to refuse absurdly nested input before it reaches the (recursive) JSON library.
// The text need not be valid JSON; the scan stops early once `limit` is exceeded.
std::size_t json_nesting_depth(std::string_view text, std::size_t limit);

}  // namespace junction

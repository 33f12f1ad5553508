// Names the calling thread, so top -H, perf and gdb tell Roentgen's threads
// apart (rg-udp, rg-parse, rg-write-N, rg-http). Linux keeps 15 characters;
// longer names are cut.
#pragma once

#include <string_view>

namespace roentgen {

void SetCurrentThreadName(std::string_view name);

}  // namespace roentgen

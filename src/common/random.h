// Random bits for ids: a per-thread generator seeded from the OS's CSPRNG.
#pragma once

#include <cstdint>
#include <span>

namespace roentgen {

// Fills `out` with random bytes. Thread-safe (one generator per thread,
// seeded from getrandom(2)); fast enough for id generation on hot paths.
void FillRandom(std::span<uint8_t> out);
uint64_t RandomU64();

}  // namespace roentgen

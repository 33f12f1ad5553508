#include "common/random.h"

#include <sys/random.h>

#include <cstring>
#include <random>

namespace roentgen {
namespace {
std::mt19937_64& ThreadGenerator() {
  thread_local std::mt19937_64 gen = [] {
    uint64_t seed[4] = {};
    ssize_t got = getrandom(seed, sizeof(seed), 0);
    if (got != static_cast<ssize_t>(sizeof(seed))) {
      std::random_device rd;
      for (auto& s : seed) s = (static_cast<uint64_t>(rd()) << 32) | rd();
    }
    std::seed_seq seq{seed[0], seed[1], seed[2], seed[3]};
    return std::mt19937_64(seq);
  }();
  return gen;
}
}  // namespace

uint64_t RandomU64() { return ThreadGenerator()(); }

void FillRandom(std::span<uint8_t> out) {
  size_t i = 0;
  while (i < out.size()) {
    uint64_t r = RandomU64();
    size_t n = std::min(out.size() - i, sizeof(r));
    std::memcpy(out.data() + i, &r, n);
    i += n;
  }
}

}  // namespace roentgen

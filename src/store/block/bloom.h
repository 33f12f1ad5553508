// A split-block bloom filter (as Parquet's): 256-bit blocks of eight 32-bit
// words; a key sets one bit in each word of one block. One cache line per
// probe, ~1% false positives at 10 bits a key. Keys are hashed with XXH3-64.
//
// Serialized form: the blocks' words, fixed32 little-endian, 32 bytes a block.
// Builder: not thread-safe. BloomFilter: immutable, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace roentgen::store::block {

inline constexpr size_t kBloomBlockBytes = 32;
inline constexpr size_t kBloomBitsPerKey = 10;

uint64_t BloomHash(std::string_view key);

class BloomFilterBuilder {
 public:
  BloomFilterBuilder();
  void Add(std::string_view key) {
    const uint64_t h = BloomHash(key);
    ++key_count_;
    // A hash met lately is not kept again: a block repeats most of its keys
    // (a service on every row), and Finish would sort every repeat only to
    // drop it. A slot only ever holds a hash of its own low bits (or its
    // initial value, which is not one), so no hash is ever taken for seen.
    uint64_t& seen = recent_[h & (kRecentSlots - 1)];
    if (seen == h) return;
    seen = h;
    hashes_.push_back(h);
  }
  // Every key added, repeats included.
  size_t key_count() const { return key_count_; }
  // The filter over the keys added, kBloomBitsPerKey bits a distinct key.
  std::string Finish() const;

 private:
  static constexpr size_t kRecentSlots = 1024;
  std::vector<uint64_t> hashes_;  // every distinct hash, and some repeats
  std::vector<uint64_t> recent_;  // the last hash kept in each slot
  size_t key_count_ = 0;
};

class BloomFilter {
 public:
  BloomFilter() = default;
  // Corruption unless `bytes` is a non-empty whole number of blocks.
  static Result<BloomFilter> Parse(std::string_view bytes);
  bool MayContain(std::string_view key) const { return MayContainHash(BloomHash(key)); }
  bool MayContainHash(uint64_t hash) const;
  size_t block_count() const { return words_.size() / 8; }

 private:
  std::vector<uint32_t> words_;
};

}  // namespace roentgen::store::block

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
  void Add(std::string_view key) { hashes_.push_back(BloomHash(key)); }
  size_t key_count() const { return hashes_.size(); }
  // The filter over the keys added, kBloomBitsPerKey bits a distinct key.
  std::string Finish() const;

 private:
  std::vector<uint64_t> hashes_;
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

#include "store/block/bloom.h"

#include <xxhash.h>

#include <algorithm>

#include "common/coding.h"

namespace roentgen::store::block {
namespace {

constexpr uint32_t kSalt[8] = {0x47b6137bu, 0x44974d91u, 0x8824ad5bu, 0xa2b7289du,
                               0x705495c7u, 0x2df1424bu, 0x9efc4947u, 0x5c6bfb31u};

size_t BlockIndex(uint64_t hash, size_t blocks) {
  return static_cast<size_t>(((hash >> 32) * blocks) >> 32);
}

uint32_t Bit(uint64_t hash, int i) {
  return 1u << ((static_cast<uint32_t>(hash) * kSalt[i]) >> 27);
}

}  // namespace

uint64_t BloomHash(std::string_view key) { return XXH3_64bits(key.data(), key.size()); }

BloomFilterBuilder::BloomFilterBuilder() : recent_(kRecentSlots) {
  // Slot i starts with a value whose low bits are not i: no hash matches it.
  for (size_t i = 0; i < kRecentSlots; ++i) recent_[i] = i ^ 1;
}

std::string BloomFilterBuilder::Finish() const {
  // Sized by the distinct keys: a block repeats most of its keys (a service
  // name, an annotation value on thousands of rows), and a repeat sets the
  // same bits, so sizing by every Add made filters many times larger than
  // their false-positive rate needs.
  std::vector<uint64_t> distinct(hashes_);
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  const size_t bits = distinct.size() * kBloomBitsPerKey;
  const size_t blocks = std::max<size_t>(1, (bits + 255) / 256);
  std::vector<uint32_t> words(blocks * 8, 0);
  for (uint64_t h : distinct) {
    uint32_t* block = &words[BlockIndex(h, blocks) * 8];
    for (int i = 0; i < 8; ++i) block[i] |= Bit(h, i);
  }
  std::string out;
  out.reserve(words.size() * 4);
  for (uint32_t w : words) coding::PutFixed32(w, out);
  return out;
}

Result<BloomFilter> BloomFilter::Parse(std::string_view bytes) {
  if (bytes.empty() || bytes.size() % kBloomBlockBytes != 0) {
    return Status::Corruption(
        fmt::format("bloom filter of {} bytes is not a whole number of blocks", bytes.size()));
  }
  BloomFilter f;
  f.words_.resize(bytes.size() / 4);
  for (size_t i = 0; i < f.words_.size(); ++i) {
    f.words_[i] = coding::DecodeFixed32(bytes.data() + 4 * i);
  }
  return f;
}

bool BloomFilter::MayContainHash(uint64_t hash) const {
  if (words_.empty()) return true;  // no filter: anything may be there
  const uint32_t* block = &words_[BlockIndex(hash, block_count()) * 8];
  for (int i = 0; i < 8; ++i) {
    if ((block[i] & Bit(hash, i)) == 0) return false;
  }
  return true;
}

}  // namespace roentgen::store::block

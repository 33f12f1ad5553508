#include "store/block/manifest.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "common/coding.h"

namespace roentgen::store::block {
namespace {

constexpr char kMagic[8] = {'R', 'G', 'M', 'A', 'N', 'I', 'F', '1'};
constexpr uint64_t kHeaderBytes = sizeof(kMagic);
constexpr uint64_t kFrameBytes = 12;               // length · payload crc · header crc
constexpr uint64_t kMaxEditBytes = 256ull << 20;   // larger lengths are damage
constexpr std::string_view kCurrent = "CURRENT";
constexpr std::string_view kPrefix = "MANIFEST-";
constexpr size_t kNumberDigits = 20;

// The fields of an edit's payload: a tag (varint), then the field.
enum Tag : uint64_t {
  kAddBlock = 1,    // id, rows, bytes, min/max start, min/max updated (signed), level
  kRemoveBlock = 2, // id
  kSupersede = 3,   // block id, count, rows as ascending deltas
};

uint32_t Crc(std::string_view bytes) {
  return static_cast<uint32_t>(
      crc32_z(0, reinterpret_cast<const Bytef*>(bytes.data()), bytes.size()));
}

// length · crc32(payload) · crc32(the 8 bytes before): the header checks
// itself, so a damaged length is told apart from an edit cut short by a crash.
std::string Frame(std::string_view payload) {
  std::string out;
  out.reserve(kFrameBytes + payload.size());
  coding::PutFixed32(static_cast<uint32_t>(payload.size()), out);
  coding::PutFixed32(Crc(payload), out);
  coding::PutFixed32(Crc(out), out);
  out.append(payload);
  return out;
}

std::string FileName(uint64_t number) {
  return fmt::format("{}{:0{}}", kPrefix, number, kNumberDigits);
}

std::optional<uint64_t> ParseFileName(std::string_view name) {
  if (name.size() != kPrefix.size() + kNumberDigits || !name.starts_with(kPrefix)) {
    return std::nullopt;
  }
  uint64_t number = 0;
  const char* begin = name.data() + kPrefix.size();
  auto [end, ec] = std::from_chars(begin, name.data() + name.size(), number);
  if (ec != std::errc() || end != name.data() + name.size()) return std::nullopt;
  return number;
}

Status WriteAll(int fd, std::string_view bytes, const std::string& path) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "write " + path, path);
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status SyncFd(int fd, const std::string& path) {
  if (::fdatasync(fd) != 0) return ErrnoStatus(errno, "fdatasync " + path, path);
  return Status::Ok();
}

Result<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return ErrnoStatus(errno, "open " + path, path);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return Status::IOError("read " + path + " failed");
  return bytes;
}

// Writes `bytes` as `dir/name` atomically: a temporary file, fdatasync,
// rename, and a sync of the directory.
Status WriteFileAtomically(const std::string& dir, std::string_view name, std::string_view bytes) {
  const std::string path = dir + "/" + std::string(name);
  const std::string tmp = path + ".tmp";
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd.valid()) return ErrnoStatus(errno, "create " + tmp, tmp);
  if (Status s = WriteAll(fd.get(), bytes, tmp); !s.ok()) return s;
  if (Status s = SyncFd(fd.get(), tmp); !s.ok()) return s;
  fd.Reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return ErrnoStatus(errno, "rename " + tmp + " to " + path, path);
  }
  return SyncDir(dir);
}

// The state as edits: the blocks, then their superseded rows (an edit may
// not supersede rows of blocks it adds itself).
std::string SnapshotFrames(const ManifestState& state, auto frame, auto encode) {
  ManifestEdit blocks;
  ManifestEdit rows;
  for (const auto& entry : state.blocks) {
    blocks.added.push_back(entry.second.meta);
    if (!entry.second.superseded.empty()) rows.superseded[entry.first] = entry.second.superseded;
  }
  std::string out = frame(encode(blocks));
  if (!rows.superseded.empty()) out += frame(encode(rows));
  return out;
}

}  // namespace

std::string Manifest::EncodeEdit(const ManifestEdit& edit) {
  std::string out;
  for (const BlockMeta& b : edit.added) {
    coding::PutVarint(kAddBlock, out);
    coding::PutVarint(b.id, out);
    coding::PutVarint(b.rows, out);
    coding::PutVarint(b.bytes, out);
    coding::PutSigned(b.min_start_us, out);
    coding::PutSigned(b.max_start_us, out);
    coding::PutSigned(b.min_updated_us, out);
    coding::PutSigned(b.max_updated_us, out);
    coding::PutVarint(b.level, out);
  }
  for (uint64_t id : edit.removed) {
    coding::PutVarint(kRemoveBlock, out);
    coding::PutVarint(id, out);
  }
  for (const auto& [id, rows] : edit.superseded) {
    std::vector<uint32_t> sorted = rows;
    std::sort(sorted.begin(), sorted.end());
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
    coding::PutVarint(kSupersede, out);
    coding::PutVarint(id, out);
    coding::PutVarint(sorted.size(), out);
    uint32_t previous = 0;
    for (uint32_t row : sorted) {
      coding::PutVarint(row - previous, out);
      previous = row;
    }
  }
  return out;
}

Result<ManifestEdit> Manifest::DecodeEdit(std::string_view payload) {
  coding::Reader in(payload);
  ManifestEdit edit;
  while (in.ok() && in.remaining() > 0) {
    uint64_t tag = 0;
    if (!in.Varint(tag)) break;
    switch (tag) {
      case kAddBlock: {
        BlockMeta b;
        uint64_t level = 0;
        if (in.Varint(b.id) && in.Varint(b.rows) && in.Varint(b.bytes) &&
            in.Signed(b.min_start_us) && in.Signed(b.max_start_us) &&
            in.Signed(b.min_updated_us) && in.Signed(b.max_updated_us) && in.Varint(level)) {
          if (level > UINT32_MAX) {
            in.Fail("block level out of range");
            break;
          }
          b.level = static_cast<uint32_t>(level);
          edit.added.push_back(b);
        }
        break;
      }
      case kRemoveBlock: {
        uint64_t id = 0;
        if (in.Varint(id)) edit.removed.push_back(id);
        break;
      }
      case kSupersede: {
        uint64_t id = 0;
        uint64_t count = 0;
        if (!in.Varint(id) || !in.Varint(count)) break;
        // Each row takes at least one byte: a count beyond the bytes left is damage.
        if (count > in.remaining()) {
          in.Fail("superseded row count exceeds the edit");
          break;
        }
        std::vector<uint32_t>& rows = edit.superseded[id];
        uint64_t row = 0;
        for (uint64_t i = 0; i < count && in.ok(); ++i) {
          uint64_t delta = 0;
          if (!in.Varint(delta)) break;
          row += delta;
          if (row > UINT32_MAX || (i > 0 && delta == 0)) {
            in.Fail("superseded rows out of order or range");
            break;
          }
          rows.push_back(static_cast<uint32_t>(row));
        }
        break;
      }
      default:
        in.Fail(fmt::format("unknown field {} (written by a newer Roentgen?)", tag));
    }
  }
  if (!in.ok()) return Status::Corruption("manifest edit: " + in.error());
  return edit;
}

Manifest::Manifest(std::string dir, ManifestOptions options)
    : dir_(std::move(dir)), options_(options) {}

Status Manifest::CheckEdit(const ManifestEdit& edit) const {
  std::set<uint64_t> added;
  for (const BlockMeta& b : edit.added) {
    if (b.id == 0) return Status::InvalidArgument("manifest edit: block id 0");
    if (state_.blocks.contains(b.id) || !added.insert(b.id).second) {
      return Status::InvalidArgument(fmt::format("manifest edit: block {} is already live", b.id));
    }
    if (b.rows > UINT32_MAX) {
      return Status::InvalidArgument(fmt::format("manifest edit: block {} has too many rows", b.id));
    }
  }
  std::set<uint64_t> removed;
  for (uint64_t id : edit.removed) {
    if (!state_.blocks.contains(id) || !removed.insert(id).second) {
      return Status::InvalidArgument(fmt::format("manifest edit: block {} is not live", id));
    }
  }
  for (const auto& [id, rows] : edit.superseded) {
    // A block the edit adds may have rows superseded by it: a compaction's
    // output carries the rows of its inputs superseded while it ran.
    uint64_t block_rows = 0;
    if (auto it = state_.blocks.find(id); it != state_.blocks.end() && !removed.contains(id)) {
      block_rows = it->second.meta.rows;
    } else if (auto a = std::find_if(edit.added.begin(), edit.added.end(),
                                     [block = id](const BlockMeta& b) { return b.id == block; });
               a != edit.added.end()) {
      block_rows = a->rows;
    } else {
      return Status::InvalidArgument(
          fmt::format("manifest edit: rows superseded in block {}, which is not live", id));
    }
    for (uint32_t row : rows) {
      if (row >= block_rows) {
        return Status::InvalidArgument(fmt::format(
            "manifest edit: row {} is past the end of block {} ({} rows)", row, id, block_rows));
      }
    }
  }
  return Status::Ok();
}

namespace {

// Applies a checked edit to `state`.
void ApplyTo(const ManifestEdit& edit, ManifestState& state) {
  for (uint64_t id : edit.removed) state.blocks.erase(id);
  for (const BlockMeta& b : edit.added) {
    state.blocks[b.id] = LiveBlock{b, {}};
    state.next_block_id = std::max(state.next_block_id, b.id + 1);
  }
  for (const auto& [id, rows] : edit.superseded) {
    std::vector<uint32_t>& dead = state.blocks[id].superseded;
    std::vector<uint32_t> sorted = rows;
    std::sort(sorted.begin(), sorted.end());
    std::vector<uint32_t> merged;
    merged.reserve(dead.size() + sorted.size());
    std::set_union(dead.begin(), dead.end(), sorted.begin(), sorted.end(),
                   std::back_inserter(merged));
    dead = std::move(merged);
  }
}

}  // namespace

Result<std::unique_ptr<Manifest>> Manifest::Open(const std::string& dir, ManifestOptions options) {
  std::unique_ptr<Manifest> m(new Manifest(dir, options));
  MutexLock lock(m->mu_);
  const std::string current_path = dir + "/" + std::string(kCurrent);
  struct stat st {};
  if (::stat(current_path.c_str(), &st) != 0) {
    if (errno != ENOENT) return ErrnoStatus(errno, "stat " + current_path, current_path);
    // A new manifest: an empty state written as a fresh file.
    if (Status s = m->Rewrite(); !s.ok()) return s;
    return m;
  }
  Result<std::string> current = ReadWholeFile(current_path);
  if (!current.ok()) return current.status();
  std::string_view name = *current;
  if (!name.empty() && name.back() == '\n') name.remove_suffix(1);
  std::optional<uint64_t> number = ParseFileName(name);
  if (!number) {
    return Status::Corruption(fmt::format("{} does not name a manifest file: \"{}\"", current_path,
                                          std::string(name.substr(0, 64))));
  }
  const std::string path = dir + "/" + std::string(name);
  Result<std::string> bytes = ReadWholeFile(path);
  if (!bytes.ok()) return bytes.status();
  if (bytes->size() < kHeaderBytes || std::string_view(bytes->data(), kHeaderBytes) !=
                                          std::string_view(kMagic, kHeaderBytes)) {
    return Status::Corruption(path + ": not a manifest file (bad magic)");
  }
  uint64_t at = kHeaderBytes;
  uint64_t good_end = at;
  // A crash can cut the last append short, or leave its bytes zero (the file
  // grew before its data reached the disk); both are an edit whose Apply never
  // returned. Anything else that fails a check is damage.
  auto zeros_to_end = [&](uint64_t from) {
    return std::all_of(bytes->begin() + static_cast<std::ptrdiff_t>(from), bytes->end(),
                       [](char c) { return c == 0; });
  };
  while (at < bytes->size()) {
    const uint64_t left = bytes->size() - at;
    if (left < kFrameBytes) break;  // a torn frame header at the end
    const char* frame = bytes->data() + at;
    if (coding::DecodeFixed32(frame + 8) != Crc(std::string_view(frame, 8))) {
      if (zeros_to_end(at)) break;
      return Status::Corruption(fmt::format("{}: edit at offset {}: damaged header", path, at));
    }
    const uint32_t length = coding::DecodeFixed32(frame);
    if (length > kMaxEditBytes) {
      return Status::Corruption(fmt::format("{}: edit at offset {} claims {} bytes", path, at, length));
    }
    if (left - kFrameBytes < length) break;  // runs past the end: an edit cut short
    std::string_view payload(frame + kFrameBytes, length);
    if (coding::DecodeFixed32(frame + 4) != Crc(payload)) {
      if (at + kFrameBytes + length == bytes->size()) break;  // the last edit, torn
      return Status::Corruption(fmt::format("{}: edit at offset {} fails its checksum", path, at));
    }
    Result<ManifestEdit> edit = DecodeEdit(payload);
    if (!edit.ok()) {
      return Status::Corruption(fmt::format("{}: edit at offset {}: {}", path, at,
                                            edit.status().message()));
    }
    if (Status s = m->CheckEdit(*edit); !s.ok()) {
      return Status::Corruption(fmt::format("{}: edit at offset {} contradicts the ones before: {}",
                                            path, at, s.message()));
    }
    ApplyTo(*edit, m->state_);
    at += kFrameBytes + length;
    good_end = at;
  }
  m->fd_ = UniqueFd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!m->fd_.valid()) return ErrnoStatus(errno, "open " + path, path);
  if (good_end < bytes->size()) {
    // An edit whose Apply never returned: cut it off so the next edit follows
    // the last good one.
    if (::ftruncate(m->fd_.get(), static_cast<off_t>(good_end)) != 0) {
      return ErrnoStatus(errno, "truncate " + path, path);
    }
    if (Status s = SyncFd(m->fd_.get(), path); !s.ok()) return s;
  }
  if (::lseek(m->fd_.get(), static_cast<off_t>(good_end), SEEK_SET) < 0) {
    return ErrnoStatus(errno, "seek " + path, path);
  }
  m->file_number_ = *number;
  m->log_bytes_ = good_end;
  // Leftovers of a rewrite interrupted by a crash: a new file CURRENT never
  // pointed at, or an old one it no longer points at.
  ::unlink((dir + "/CURRENT.tmp").c_str());
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string file = entry.path().filename().string();
    if (ParseFileName(file) && file != name) ::unlink(entry.path().c_str());
  }
  return m;
}

Status Manifest::Rewrite() {
  const uint64_t number = file_number_ + 1;
  const std::string path = dir_ + "/" + FileName(number);
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd.valid()) return ErrnoStatus(errno, "create " + path, path);
  std::string bytes(kMagic, kHeaderBytes);
  bytes += SnapshotFrames(state_, Frame, EncodeEdit);
  Status s = WriteAll(fd.get(), bytes, path);
  if (s.ok()) s = SyncFd(fd.get(), path);
  if (s.ok()) s = SyncDir(dir_);
  if (s.ok()) s = WriteFileAtomically(dir_, kCurrent, FileName(number) + "\n");
  if (!s.ok()) {
    ::unlink(path.c_str());
    return s;
  }
  if (file_number_ != 0) {
    const std::string old = dir_ + "/" + FileName(file_number_);
    ::unlink(old.c_str());
  }
  fd_ = std::move(fd);
  file_number_ = number;
  log_bytes_ = bytes.size();
  return Status::Ok();
}

Status Manifest::Apply(const ManifestEdit& edit) {
  MutexLock lock(mu_);
  if (broken_) {
    return Status::IOError("the manifest refuses edits after a write it could not undo; reopen it");
  }
  if (Status s = CheckEdit(edit); !s.ok()) return s;
  const std::string path = dir_ + "/" + FileName(file_number_);
  const std::string framed = Frame(EncodeEdit(edit));
  Status s = WriteAll(fd_.get(), framed, path);
  if (s.ok()) s = SyncFd(fd_.get(), path);
  if (!s.ok()) {
    // Nothing of a failed edit may stay in the log: a later edit would follow
    // it, and a reopen would apply it.
    if (::ftruncate(fd_.get(), static_cast<off_t>(log_bytes_)) != 0 ||
        ::lseek(fd_.get(), static_cast<off_t>(log_bytes_), SEEK_SET) < 0 ||
        ::fdatasync(fd_.get()) != 0) {
      broken_ = true;
    }
    return s;
  }
  log_bytes_ += framed.size();
  ApplyTo(edit, state_);
  if (log_bytes_ > options_.rewrite_after_bytes) {
    // The edit is durable either way; a failed rewrite leaves the old file
    // live and is tried again after the next edit.
    (void)Rewrite();
  }
  return Status::Ok();
}

uint64_t Manifest::NewBlockId() {
  MutexLock lock(mu_);
  handed_out_ = std::max(handed_out_ + 1, state_.next_block_id);
  return handed_out_;
}

ManifestState Manifest::State() const {
  MutexLock lock(mu_);
  return state_;
}

uint64_t Manifest::LogBytes() const {
  MutexLock lock(mu_);
  return log_bytes_;
}

}  // namespace roentgen::store::block

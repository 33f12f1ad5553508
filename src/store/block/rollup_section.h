// The block engine's persisted service-graph rollups: each block carries, as
// its named section `roentgen.rollups` (BlockWriteOptions::sections), the
// per-minute rollups (graph::RollupMinutes) of its own rows, written by the
// cut and by compaction. At start-up the engine sums the live blocks'
// sections and subtracts the rows the manifest marks superseded
// (BlockStore's LoadRollups; docs/storage.md, "Persisted rollups").
//
// Section layout (varints and zigzag "signed" varints, common/coding.h):
//   format version varint (1)
//   key count varint, then per service key, strictly ascending:
//     name · type · account (length-prefixed each)
//   minute count varint, then per minute, strictly ascending:
//     minute: signed (the first) or varint delta > 0 (the others)
//     node count varint, then per node, key index strictly ascending:
//       key index varint · flags byte (bit 0 inferred, bit 1 client) · cell ·
//       duration histogram
//     edge count varint, then per edge, (from, to) strictly ascending:
//       from key index varint · to key index varint · cell
//   cell: observations varint (> 0) · roots signed · counters ok, throttle,
//     error_other, fault, total, response_us (signed each) · first start
//     signed · last end signed · response-time histogram
//   histogram: entry count varint, then per entry: bucket (varint, the
//     first absolute, then deltas > 0; below graph::kHistogramBuckets) ·
//     count signed (not 0)
// Nothing may follow. Pure functions, thread-safe. Errors: Corruption naming
// `what` and the byte offset for any bytes that break the layout.
#pragma once

#include <limits>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "graph/rollup_store.h"
#include "store/block/summary_columns.h"
#include "store/store.h"

namespace roentgen::store::block {

inline constexpr std::string_view kRollupSection = "roentgen.rollups";

// The rollups of `rows` (each record's graph, by the minute of each
// observation's start).
graph::RollupMinutes RollupsOfRecords(std::span<const TraceRecord> rows);
// The same, with the rows given by address (a head's cut).
graph::RollupMinutes RollupsOfPointedRecords(std::span<const TraceRecord* const> rows);

std::string EncodeRollupSection(const graph::RollupMinutes& minutes);
Result<graph::RollupMinutes> DecodeRollupSection(std::string_view bytes, std::string_view what);

// A live block as the sum sees it: its id, reader and superseded rows
// (sorted, unique), as of one manifest state.
struct RollupSource {
  uint64_t id = 0;
  std::shared_ptr<const BlockReader> reader;
  std::vector<uint32_t> superseded;
};

// The saved rollups of superseded rows, so that a start need not read them
// from their blocks: per block id, the rows covered (sorted, unique) and
// their rollups as a section's bytes. Kept in the file
// `blocks/superseded-rollups` (kSavedCorrectionsFile): version varint (1) ·
// entry count varint · per entry, ascending block id: block id varint · row
// count varint · rows (the first absolute, then deltas > 0, varints) ·
// section (length-prefixed) · then a fixed64 XXH3 checksum of all that.
// Written whole (temporary file, fsync, rename, fsync of the directory)
// after the manifest edits it reflects, so an entry's rows are always
// superseded in the manifest; an entry whose rows are not (a file from
// another store) is ignored.
inline constexpr std::string_view kSavedCorrectionsFile = "superseded-rollups";
struct SavedCorrection {
  std::vector<uint32_t> rows;
  std::string section;
};
using SavedCorrections = std::map<uint64_t, SavedCorrection>;

std::string EncodeSavedCorrections(const SavedCorrections& saved);
Result<SavedCorrections> DecodeSavedCorrections(std::string_view bytes, std::string_view what);
// The file in `dir`: an empty set when there is none; Corruption when it is
// damaged; IOError and the like for the file system.
Result<SavedCorrections> ReadSavedCorrections(const std::string& dir);
Status WriteSavedCorrections(const std::string& dir, const SavedCorrections& saved);

// Brings `saved` up to the blocks' superseded rows: drops the entries of
// blocks not listed or without superseded rows, and computes (from the
// rows' details) each entry whose rows differ from the block's. True if
// anything changed. Errors: those of reading rows.
Result<bool> UpdateSavedCorrections(std::span<const RollupSource> blocks, SavedCorrections& saved);

// The rollups of the blocks' live rows: each block's section minus the
// rollups of its superseded rows — those `saved` covers from there, the
// others read from the block — summed per minute, the minutes below
// `fold_below_minute` (a multiple of graph::kMinutesPerHour) per hour
// (graph::FoldRollupMinutes), each block's as soon as it is decoded, so that
// the peak holds no more minutes than the result. The blocks are decoded on
// one thread per core (at most 8), the newest (last) first; once the minutes
// kept would pass `max_minute_bytes`, the blocks decoded after that are
// summed per hour whole, the floor moves up to the oldest hour whose minutes
// and all later ones fit the budget (PersistedRollups::hourly_before_us),
// and the blocks summed whole that reach past it are decoded again: the
// peak stays near the budget.
// A block whose section is
// missing (NotFound) or damaged (Corruption, kept in `damaged`) is rebuilt
// from its live rows and counted in `rebuilt_blocks`; a damaged saved entry
// is reported the same way and its rows are read. Errors: those of reading
// rows (Corruption, IOError).
Result<PersistedRollups> SumBlockRollups(
    std::span<const RollupSource> blocks, const SavedCorrections& saved = {},
    int64_t fold_below_minute = std::numeric_limits<int64_t>::min(),
    size_t max_minute_bytes = std::numeric_limits<size_t>::max());

}  // namespace roentgen::store::block

// Reads a datagram the recorder sent as Roentgen's UDP receiver does: fails
// the calling test when Roentgen would reject it, and returns its document.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "xray/segment_parser.h"

namespace roentgen::sdk::testing {

inline nlohmann::json Validate(const std::string& datagram) {
  auto doc = roentgen::xray::SplitDaemonDatagram(datagram);
  EXPECT_TRUE(doc.ok()) << datagram;
  if (!doc.ok()) return {};
  roentgen::xray::SegmentParser parser;
  std::vector<roentgen::xray::SegmentDocument> out;
  roentgen::xray::ParseFailure failure;
  EXPECT_TRUE(parser.Parse(*doc, out, failure)) << failure.message << "\n" << *doc;
  return nlohmann::json::parse(*doc);
}

}  // namespace roentgen::sdk::testing

#include "api/xray_api.h"

#include <memory>
#include <utility>

#include "api/group_registry.h"
#include "api/xray_handlers.h"

namespace roentgen::api {

void RegisterXRayApi(Router& router, ingest::Pipeline& pipeline, store::Store& store,
                     MetricsRegistry& metrics) {
  RegisterPutApis(router, pipeline, metrics);
  auto groups = std::make_shared<GroupRegistry>(store);
  RegisterReadApis(router, store, groups);
  RegisterAnalyticsApis(router, store, groups);
  RegisterGroupApis(router, std::move(groups));
}

void RegisterServiceMapApis(Router& router, store::Store& store, graph::RollupStore& rollups) {
  RegisterGraphApis(router, store, rollups);
}

}  // namespace roentgen::api

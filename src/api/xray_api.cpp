#include "api/xray_api.h"

#include "api/xray_handlers.h"

namespace roentgen::api {

void RegisterXRayApi(Router& router, ingest::Pipeline& pipeline, store::Store& store,
                     MetricsRegistry& metrics) {
  RegisterPutApis(router, pipeline, metrics);
  RegisterReadApis(router, store);
}

}  // namespace roentgen::api

#include "api/xray_api.h"

#include <memory>
#include <utility>

#include "api/account_settings.h"
#include "api/group_registry.h"
#include "api/resource_policies.h"
#include "api/sampling_rule_tags.h"
#include "api/tags.h"
#include "api/xray_handlers.h"
#include "common/clock.h"

namespace roentgen::api {

void RegisterXRayApi(Router& router, ingest::Pipeline& pipeline, store::Store& store,
                     MetricsRegistry& metrics, const QueryLimits& limits, const Clock& clock) {
  RegisterXRayApi(router, ingest::PipelineSubmitSink(pipeline), store, metrics, limits, clock);
}

void RegisterXRayApi(Router& router, ingest::SubmitSink put, store::Store& store,
                     MetricsRegistry& metrics, const QueryLimits& limits, const Clock& clock) {
  auto api_limits = std::make_shared<const ApiLimits>(limits, metrics);
  RegisterPutApis(router, std::move(put), metrics, api_limits);
  const GroupIdentity identity;
  auto groups = std::make_shared<GroupRegistry>(store, identity);
  auto rules = std::make_shared<sampling::RuleRegistry>(
      store, clock, sampling::Identity{identity.region, identity.account_id});
  RegisterSamplingApis(router, rules, store, clock);
  RegisterReadApis(router, store, groups, api_limits);
  RegisterAnalyticsApis(router, store, groups, api_limits);
  // Each kind of taggable resource registers here (tags.h).
  auto tags = std::make_shared<TagService>();
  tags->Register(groups);
  tags->Register(std::make_shared<SamplingRuleTags>(std::move(rules)));
  RegisterTagApis(router, std::move(tags));
  RegisterGroupApis(router, std::move(groups));
  RegisterAccountApis(router, std::make_shared<AccountSettings>(store),
                      std::make_shared<ResourcePolicyRegistry>(store, clock));
}

void RegisterServiceMapApis(Router& router, store::Store& store, graph::RollupStore& rollups,
                            MetricsRegistry& metrics, const QueryLimits& limits) {
  RegisterGraphApis(router, store, rollups, std::make_shared<const ApiLimits>(limits, metrics));
}

void RegisterTraceRetrievalApis(Router& router, TraceRetrievals& retrievals, store::Store& store,
                                MetricsRegistry& metrics, const QueryLimits& limits) {
  RegisterRetrievalApis(router, retrievals, store,
                        std::make_shared<const ApiLimits>(limits, metrics));
}

}  // namespace roentgen::api

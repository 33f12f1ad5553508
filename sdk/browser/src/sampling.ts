// Sampling by the server's rules, as the X-Ray SDKs do it: GetSamplingRules
// at start and every 5 minutes, rules tried in priority order (Default last),
// each with a reservoir of traces per second and a FixedRate for the rest;
// statistics reported with GetSamplingTargets every 10 s, which answers this
// client's share of the reservoir. Until a rule has a quota from the server
// (and after it expires) a client borrows one trace a second from it.

/** A rule as GetSamplingRules returns it (`SamplingRuleRecords[].SamplingRule`). */
export interface SamplingRule {
  RuleName: string;
  Priority: number;
  FixedRate: number;
  ReservoirSize: number;
  ServiceName: string;
  ServiceType: string;
  Host: string;
  HTTPMethod: string;
  URLPath: string;
  ResourceARN?: string;
  Version?: number;
  Attributes?: Record<string, string>;
}

/** What a sampling decision is made on; a field left out matches any rule. */
export interface SampleRequest {
  serviceName?: string;
  serviceType?: string;
  host?: string;
  httpMethod?: string;
  urlPath?: string;
}

/** X-Ray's glob: `*` any run of characters, `?` one, compared without regard to case. */
export function wildcardMatch(pattern: string, text: string): boolean {
  if (pattern === '*') return true;
  const p = pattern.toLowerCase();
  const t = text.toLowerCase();
  // Iterative matching with backtracking to the last `*` (linear in practice).
  let pi = 0;
  let ti = 0;
  let star = -1;
  let mark = 0;
  while (ti < t.length) {
    if (pi < p.length && (p[pi] === '?' || p[pi] === t[ti])) {
      pi++;
      ti++;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++;
      mark = ti;
    } else if (star >= 0) {
      pi = star + 1;
      ti = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}

/** X-Ray's built-in rule, used until the server's rules arrive or when they cannot be fetched. */
export const LOCAL_DEFAULT: SamplingRule = {
  RuleName: 'Default', Priority: 10000, FixedRate: 0.05, ReservoirSize: 1,
  ServiceName: '*', ServiceType: '*', Host: '*', HTTPMethod: '*', URLPath: '*', ResourceARN: '*', Version: 1,
};

/**
 * Whether this SDK can apply the rule: the X-Ray SDKs skip rules of another
 * version, with a ResourceARN other than `*` (a browser has no ARN) or with
 * attributes (requests carry none).
 */
export function usableRule(r: SamplingRule): boolean {
  return (r.Version ?? 1) === 1 && (r.ResourceARN ?? '*') === '*' && Object.keys(r.Attributes ?? {}).length === 0;
}

export class RuleState {
  rule: SamplingRule;
  fixedRate: number;
  /** Traces a second this client may take, from the server's target; undefined: borrow. */
  quota?: number;
  quotaUntil = 0;
  private second = -1;
  private taken = 0;
  requests = 0;
  sampled = 0;
  borrowed = 0;

  constructor(rule: SamplingRule) {
    this.rule = rule;
    this.fixedRate = rule.FixedRate;
  }

  get isDefault(): boolean {
    return this.rule.RuleName === 'Default';
  }

  matches(req: SampleRequest): boolean {
    const r = this.rule;
    const m = (pattern: string, value: string | undefined) => value === undefined || wildcardMatch(pattern, value);
    return this.isDefault || (m(r.ServiceName, req.serviceName) && m(r.ServiceType, req.serviceType) &&
      m(r.Host, req.host) && m(r.HTTPMethod, req.httpMethod) && m(r.URLPath, req.urlPath));
  }

  /** The decision for one request at `nowMs`, counted for the statistics. */
  sample(nowMs: number, random: () => number = Math.random): boolean {
    this.requests++;
    const second = Math.floor(nowMs / 1000);
    if (second !== this.second) {
      this.second = second;
      this.taken = 0;
    }
    const hasQuota = this.quota !== undefined && nowMs < this.quotaUntil;
    if (hasQuota ? this.taken < this.quota! : this.taken < 1 && this.rule.ReservoirSize > 0) {
      this.taken++;
      this.sampled++;
      if (!hasQuota) this.borrowed++;
      return true;
    }
    if (random() < this.fixedRate) {
      this.sampled++;
      return true;
    }
    return false;
  }
}

export type SignedCall = (path: string, body: unknown) => Promise<any>;

const RULES_INTERVAL_MS = 5 * 60 * 1000;
const TARGETS_INTERVAL_MS = 10 * 1000;

export class Sampler {
  rules: RuleState[] = [new RuleState(LOCAL_DEFAULT)];
  private rulesFetchedAt = 0;
  private timers: ReturnType<typeof setTimeout>[] = [];

  constructor(
    private call: SignedCall,
    private clientId: string,
    private onError: (e: Error) => void,
  ) {}

  /** Fetches the rules now, then keeps them and the targets current. */
  start(): void {
    void this.refreshRules();
    this.timers.push(setInterval(() => void this.refreshRules(), RULES_INTERVAL_MS));
    this.timers.push(setInterval(() => void this.reportStatistics(), TARGETS_INTERVAL_MS));
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  /** The first matching rule's decision (the Default rule matches everything). */
  shouldSample(req: SampleRequest, nowMs = Date.now()): boolean {
    for (const r of this.rules) if (r.matches(req)) return r.sample(nowMs);
    return false;
  }

  /** Replaces the rules by the server's, keeping the quotas and counts of rules that stay. */
  setRules(records: { SamplingRule: SamplingRule }[]): void {
    const old = new Map(this.rules.map((r) => [r.rule.RuleName, r]));
    const rules = records
      .map((rec) => rec.SamplingRule)
      .filter((r) => r && usableRule(r))
      .map((rule) => {
        const prev = old.get(rule.RuleName);
        const state = new RuleState(rule);
        if (prev) {
          Object.assign(state, { quota: prev.quota, quotaUntil: prev.quotaUntil, requests: prev.requests, sampled: prev.sampled, borrowed: prev.borrowed });
          // The target's rate stands until the rule's own rate changes.
          if (prev.rule.FixedRate === rule.FixedRate) state.fixedRate = prev.fixedRate;
        }
        return state;
      })
      .sort((a, b) => (a.isDefault ? 1 : 0) - (b.isDefault ? 1 : 0) || a.rule.Priority - b.rule.Priority ||
        (a.rule.RuleName < b.rule.RuleName ? -1 : 1));
    if (!rules.some((r) => r.isDefault)) rules.push(old.get('Default') ?? new RuleState(LOCAL_DEFAULT));
    this.rules = rules;
  }

  async refreshRules(): Promise<void> {
    try {
      const out = await this.call('/GetSamplingRules', {});
      this.setRules(out.SamplingRuleRecords ?? []);
      this.rulesFetchedAt = Date.now();
    } catch (e) {
      this.onError(e as Error);
    }
  }

  /** Sends the counts since the last report and applies the targets answered. */
  async reportStatistics(nowMs = Date.now()): Promise<void> {
    const docs = this.rules
      .filter((r) => r.requests > 0)
      .map((r) => {
        const d = { RuleName: r.rule.RuleName, ClientID: this.clientId, Timestamp: Math.floor(nowMs / 1000),
          RequestCount: r.requests, SampledCount: r.sampled, BorrowCount: r.borrowed };
        r.requests = r.sampled = r.borrowed = 0;
        return d;
      });
    if (!docs.length || !this.rulesFetchedAt) return;
    try {
      const out = await this.call('/SamplingTargets', { SamplingStatisticsDocuments: docs });
      this.applyTargets(out);
    } catch (e) {
      this.onError(e as Error);
    }
  }

  applyTargets(out: any): void {
    for (const t of out.SamplingTargetDocuments ?? []) {
      const r = this.rules.find((x) => x.rule.RuleName === t.RuleName);
      if (!r) continue;
      if (typeof t.FixedRate === 'number') r.fixedRate = t.FixedRate;
      if (typeof t.ReservoirQuota === 'number') {
        r.quota = t.ReservoirQuota;
        r.quotaUntil = typeof t.ReservoirQuotaTTL === 'number' ? t.ReservoirQuotaTTL * 1000 : Date.now() + TARGETS_INTERVAL_MS;
      }
    }
    const changed = out.LastRuleModification;
    if (typeof changed === 'number' && changed * 1000 > this.rulesFetchedAt) void this.refreshRules();
  }
}

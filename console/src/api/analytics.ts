// The shapes of Roentgen's TraceAnalytics extension (POST /roentgen/TraceAnalytics,
// docs/api.md "Roentgen extensions"): aggregates over every trace a filter
// matches in a time range, for the response-time distribution, completion and
// comparisons.
import type { AnnotationValue, HistogramEntry, TimeRangeType } from './types';

export interface TraceAnalyticsRequest {
  StartTime: number;
  EndTime: number;
  TimeRangeType?: TimeRangeType;
  FilterExpression?: string;
  Limit?: number;
  Period?: number;
  MaxTraces?: number;
}

export interface ValueCount<V = string> {
  Value: V;
  TraceCount: number;
}

export interface AnnotationStats {
  Key: string;
  TraceCount: number;
  Values: ValueCount<AnnotationValue>[];
  OtherValues?: number;
}

export interface RootCauseCount {
  Service?: string;
  Type?: string;
  Entity?: string;
  Exception?: string;
  TraceCount: number;
}

export interface TimeSeriesCounts {
  Timestamp: number;
  Count: number;
  Ok: number;
  Error: number;
  Throttle: number;
  Fault: number;
  TotalResponseTime: number;
}

export interface TraceAnalyticsResponse {
  TraceCount: number;
  TracesProcessedCount: number;
  Complete: boolean;
  ScannedFrom: number;
  Status: { Ok: number; Error: number; Throttle: number; Fault: number; Partial: number };
  ResponseTimeHistogram: HistogramEntry[];
  DurationHistogram: HistogramEntry[];
  TimeSeries: { Period: number; Points: TimeSeriesCounts[] };
  Annotations: AnnotationStats[];
  Users: ValueCount[];
  Urls: ValueCount[];
  HttpMethods: ValueCount[];
  HttpStatuses: ValueCount<number>[];
  Services: { Name?: string; Type?: string; TraceCount: number }[];
  RootCauses: { Fault: RootCauseCount[]; Error: RootCauseCount[]; ResponseTime: RootCauseCount[] };
}

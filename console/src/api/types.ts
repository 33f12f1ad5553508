// The X-Ray API's shapes as the console reads them (restJson1: timestamps are
// epoch seconds as numbers). Only the fields the console uses are typed; the
// server may send more.

export interface ServiceId {
  Name?: string;
  Names?: string[];
  AccountId?: string;
  Type?: string;
}

export type AnnotationValue =
  | { StringValue: string }
  | { NumberValue: number }
  | { BooleanValue: boolean };

export interface ValueWithServiceIds {
  AnnotationValue: AnnotationValue;
  ServiceIds: ServiceId[];
}

export interface TraceUser {
  UserName: string;
  ServiceIds: ServiceId[];
}

export interface RootCauseException {
  Name?: string;
  Message?: string;
}

export interface RootCauseEntity {
  Name: string;
  Coverage?: number;
  Exceptions?: RootCauseException[];
  Remote?: boolean;
}

export interface RootCauseService {
  Name?: string;
  Names?: string[];
  Type?: string;
  AccountId?: string;
  EntityPath: RootCauseEntity[];
  Inferred?: boolean;
}

export interface RootCause {
  Services: RootCauseService[];
  ClientImpacting?: boolean;
}

export interface TraceSummary {
  Id: string;
  StartTime?: number;
  Duration?: number;
  ResponseTime?: number;
  HasFault: boolean;
  HasError: boolean;
  HasThrottle: boolean;
  IsPartial: boolean;
  Http: {
    HttpURL?: string;
    HttpStatus?: number;
    HttpMethod?: string;
    UserAgent?: string;
    ClientIp?: string;
  };
  Annotations: Record<string, ValueWithServiceIds[]>;
  Users: TraceUser[];
  ServiceIds: ServiceId[];
  ResourceARNs?: { ARN: string }[];
  EntryPoint?: ServiceId;
  FaultRootCauses?: RootCause[];
  ErrorRootCauses?: RootCause[];
  ResponseTimeRootCauses?: RootCause[];
  Revision: number;
  MatchedEventTime?: number;
}

export type TimeRangeType = 'TraceId' | 'Event' | 'Service';

export interface GetTraceSummariesRequest {
  StartTime: number;
  EndTime: number;
  TimeRangeType?: TimeRangeType;
  FilterExpression?: string;
  NextToken?: string;
  Sampling?: boolean;
}

export interface GetTraceSummariesResponse {
  TraceSummaries: TraceSummary[];
  ApproximateTime?: number;
  TracesProcessedCount?: number;
  NextToken?: string;
}

export interface TraceSegment {
  Id: string;
  Document: string; // the segment document as JSON text
}

export interface Trace {
  Id: string;
  Duration?: number;
  LimitExceeded?: boolean;
  Segments: TraceSegment[];
}

export interface BatchGetTracesResponse {
  Traces: Trace[];
  UnprocessedTraceIds: string[];
}

export interface HistogramEntry {
  Value: number; // seconds (the bucket's lower bound)
  Count: number;
}

export interface SummaryStatistics {
  OkCount?: number;
  ErrorStatistics?: { ThrottleCount?: number; OtherCount?: number; TotalCount?: number };
  FaultStatistics?: { OtherCount?: number; TotalCount?: number };
  TotalCount?: number;
  TotalResponseTime?: number;
}

export interface Edge {
  ReferenceId: number;
  StartTime?: number;
  EndTime?: number;
  SummaryStatistics?: SummaryStatistics;
  ResponseTimeHistogram?: HistogramEntry[];
}

export interface Service {
  ReferenceId: number;
  Name?: string;
  Names?: string[];
  Root?: boolean;
  AccountId?: string;
  Type?: string;
  State?: string;
  StartTime?: number;
  EndTime?: number;
  Edges: Edge[];
  SummaryStatistics?: SummaryStatistics;
  DurationHistogram?: HistogramEntry[];
  ResponseTimeHistogram?: HistogramEntry[];
}

export interface GetServiceGraphRequest {
  StartTime: number;
  EndTime: number;
  GroupName?: string;
  GroupARN?: string;
  NextToken?: string;
}

export interface GetServiceGraphResponse {
  Services: Service[];
  StartTime?: number;
  EndTime?: number;
  ContainsOldGroupVersions?: boolean;
  NextToken?: string;
}

export interface GetTraceGraphResponse {
  Services: Service[];
  NextToken?: string;
}

export interface TimeSeriesPoint {
  Timestamp: number;
  EdgeSummaryStatistics?: SummaryStatistics;
  ServiceSummaryStatistics?: SummaryStatistics;
  ResponseTimeHistogram?: HistogramEntry[];
}

export interface GetTimeSeriesServiceStatisticsRequest {
  StartTime: number;
  EndTime: number;
  GroupName?: string;
  EntitySelectorExpression?: string;
  Period?: number;
  NextToken?: string;
}

export interface GetTimeSeriesServiceStatisticsResponse {
  TimeSeriesServiceStatistics: TimeSeriesPoint[];
  ContainsOldGroupVersions?: boolean;
  NextToken?: string;
}

export interface Group {
  GroupName: string;
  GroupARN: string;
  FilterExpression?: string;
}

export interface GetGroupsResponse {
  Groups: Group[];
  NextToken?: string;
}

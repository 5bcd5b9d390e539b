/**
 * Queue and job names of the inbound listener. They are persisted in Redis
 * (Bull keys `<QUEUE_PREFIX>:<queue>:…`): renaming one strands the jobs already queued.
 */
export const INBOUND_QUEUE = 'inbound';

export const InboundJob = {
  /** Read one stored report and apply what it says. */
  Process: 'process',
} as const;

/** The report's id (its row in inbound_reports), never its content; also the Bull job id. */
export interface ProcessJobData {
  reportId: string;
}

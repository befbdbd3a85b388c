import { defineSignal } from '@temporalio/workflow';

export type GateKind = 'concurrency' | 'throttle' | 'debounce';

/** What a gate is asked to enforce; the latest request's settings win (a new version may change them). */
export interface GateRule {
  kind: GateKind;
  /** concurrency: runs at once. */
  limit?: number;
  /** throttle: at most `perWindow` admissions in any `windowMs`. */
  perWindow?: number;
  windowMs?: number;
  /** debounce: how long without a newer run before the last one runs. */
  periodMs?: number;
}

export interface GateRequest extends GateRule {
  runId: string;
  /** When the run started (ms): debounce ranks runs by it, not by when their requests arrive. */
  startedAt?: number;
}

/** What a gate tells a waiting run: go on, or (debounce) a newer run took its place. */
export interface Admission {
  admitted: boolean;
  supersededBy?: string;
}

/** What a gate carries across continue-as-new. */
export interface GateState {
  rule: GateRule;
  queue: string[];
  holders: string[];
  /** throttle: when the admissions of the last window happened (workflow time, ms). */
  recent?: number[];
  /** debounce: the newest run the gate has seen. */
  newest?: { runId: string; startedAt: number };
}

/** The workflow type of gates, started by signal-with-start from the `requestAdmission` activity. */
export const ADMISSION_GATE_WORKFLOW = 'admissionGate';

export const acquireSignal = defineSignal<[GateRequest]>('acquire');
export const releaseSignal = defineSignal<[{ runId: string }]>('release');
export const admitSignal = defineSignal<[Admission & { gateId: string }]>('admit');

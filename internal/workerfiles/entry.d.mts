// Types of dokv's entry module (entry.mjs), for a TypeScript Worker that
// binds the Go Worker's DokvObject class. Written by `dokv build` beside
// entry.mjs as entry.d.mts: TypeScript looks for the types of an import of
// "./build/entry.mjs" in entry.d.mts (never in entry.d.ts), so
//
//   import type { DokvObject } from "./build/entry.mjs";
//   interface Env { UPLOADS: DurableObjectNamespace<DokvObject> }
//
// type-checks with @cloudflare/workers-types (or `wrangler types`), which
// declare "cloudflare:workers". `import type` is erased when the Worker is
// bundled, so the TypeScript Worker never loads the Go Worker's module.
//
// Declared are the RPC methods a TypeScript Worker may call: those of
// @uploadista/kv-store-cloudflare-do's client. DokvObject also has
// methods that dokv's Go side calls (call, watch, watchEmit): they take
// dokv's binary protocol or its encoded stored keys, which change with a
// store's prefix and partitioning, so they are left out, and a call to
// them does not type-check. Watch a record from TypeScript through a route
// of the Go Worker (Store.ServeWatch), and send events with emit.
import { DurableObject } from "cloudflare:workers";

/**
 * A value JSON can hold. Dates are allowed anywhere in a record: a Date
 * set from TypeScript is stored as its ISO string and comes back as a Date;
 * once the Go side has rewritten the record, it comes back as the string.
 */
export type JsonValue = null | boolean | number | string | Date | JsonArray | JsonObject;
// Interfaces, not an alias of JsonValue[] and an object type: the RPC
// stub's types (Rpc.Stubify, Rpc.Serializable) expand an alias without end
// ("Type instantiation is excessively deep") but stop at an interface.
export interface JsonArray extends Array<JsonValue> {}
export interface JsonObject {
  [key: string]: JsonValue | undefined;
}

/** A timestamp: a Date, or its RFC 3339 string as Go writes it. */
export type Timestamp = Date | string;

/** uploadista's FlowJobStatus; any other is refused by setFlowJob. */
export type FlowJobStatus = "pending" | "running" | "completed" | "failed" | "started" | "paused" | "cancelled";

/** uploadista's FlowJobTaskStatus; any other is refused by setFlowJob. */
export type FlowJobTaskStatus = "started" | "pending" | "running" | "completed" | "paused" | "failed";

/** An OpenTelemetry (W3C) trace context (Go: dokv.TraceContext). */
export interface TraceContext {
  traceId: string;
  spanId: string;
  traceFlags: number;
}

/** One node's execution within a flow job (Go: dokv.FlowJobTask). */
export interface FlowJobTask {
  nodeId: string;
  status: FlowJobTaskStatus;
  result?: JsonValue;
  error?: string;
  retryCount?: number;
  createdAt: Timestamp;
  updatedAt: Timestamp;
}

/** What a paused flow needs to resume (Go: dokv.FlowJobExecutionState). */
export interface FlowJobExecutionState {
  executionOrder: string[];
  currentIndex: number;
  inputs: JsonObject;
}

/**
 * One execution of a flow, uploadista's FlowJob (Go: dokv.FlowJob, whose
 * JSON names these are). Optional members are those Go omits when empty.
 */
export interface FlowJob {
  id: string;
  flowId: string;
  storageId: string;
  clientId: string | null;
  status: FlowJobStatus;
  createdAt: Timestamp;
  updatedAt: Timestamp;
  tasks: FlowJobTask[];
  error?: string;
  endedAt?: Timestamp;
  result?: JsonValue;
  /** The ID of the node where a paused job waits (not a time). */
  pausedAt?: string;
  executionState?: FlowJobExecutionState;
  intermediateFiles?: string[];
  traceContext?: TraceContext;
  /** dokv's: uploads still in progress for the job; uploadista ignores it. */
  activeUploads?: string[];
}

/** One uploaded part of a multipart upload (Go: dokv.UploadFilePart). */
export interface UploadFilePart {
  partNumber: number;
  etag: string;
  size: number;
}

/** Where an upload is stored (Go: dokv.UploadFileStorage). */
export interface UploadFileStorage {
  id: string;
  type: string;
  path?: string;
  uploadId?: string;
  bucket?: string;
  parts?: UploadFilePart[];
}

/** The flow job that produced an upload (Go: dokv.UploadFileFlow). */
export interface UploadFileFlow {
  flowId: string;
  nodeId: string;
  jobId: string;
}

/**
 * An upload's metadata, uploadista's UploadFile (Go: dokv.UploadFile,
 * whose JSON names these are). Optional members are those Go omits when
 * empty.
 */
export interface UploadFile {
  id: string;
  offset: number;
  storage: UploadFileStorage;
  flow?: UploadFileFlow;
  size?: number;
  metadata?: JsonObject;
  /** An ISO 8601 string in uploadista; a Date set here comes back a Date. */
  creationDate?: Timestamp;
  url?: string;
  sizeIsDeferred?: boolean;
  checksum?: string;
  checksumAlgorithm?: string;
  traceContext?: TraceContext;
}

/**
 * dokv's Durable Object class, exported by the Go Worker's entry module.
 * Bind it from another Worker with script_name set to the Go Worker's name
 * and call it as @uploadista/kv-store-cloudflare-do's client does: the
 * object named after a record's key, ns.get(ns.idFromName(key)), holds that
 * key's one upload file and one flow job. Through a stub each method
 * returns a Promise; a value the Go type does not accept, or one too large
 * for an entry, is refused with an Error and nothing is stored.
 */
export declare class DokvObject extends DurableObject<unknown> {
  /** The object's upload file, or undefined if it has none. */
  getUploadFile(): UploadFile | undefined;
  /** Stores the object's upload file, replacing any. */
  setUploadFile(value: UploadFile): void;
  /** Deletes the object's upload file, if any. */
  deleteUploadFile(): void;
  /** The object's flow job, or undefined if it has none. */
  getFlowJob(): FlowJob | undefined;
  /** Stores the object's flow job, replacing any. */
  setFlowJob(value: FlowJob): void;
  /** Deletes the object's flow job, if any. */
  deleteFlowJob(): void;
  /**
   * Sends event (as JSON) to every watcher of the object; it is not
   * stored. A Date in it arrives as its ISO string.
   */
  emit(event: JsonValue): void;
  /**
   * The object's WebSocket watches. The URL is dokv's own: reach it through
   * a route of the Go Worker that calls Store.ServeWatch.
   */
  fetch(request: Request): Promise<Response>;
}

/** The Go Worker's fetch handler. */
declare const handler: ExportedHandler;
export default handler;

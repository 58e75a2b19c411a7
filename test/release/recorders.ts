import { env } from "cloudflare:workers";

/**
 * Recorders for capturing a release's compatibility fixtures (test/release/capture.release.ts).
 * They wrap the prototypes of the D1, Queue and Durable Object classes, which the worker, its
 * objects and the test share in this isolate, so they see every statement, message and RPC the
 * code under capture makes, exactly as it makes them.
 */

export type SqlParam = string | number | boolean | null | { $bytes: string };

export interface D1Statement {
  sql: string;
  params: SqlParam[];
}

/** One call into D1, in the order it was made. */
export type D1Record =
  | (D1Statement & { kind: "statement"; ok: boolean; columns?: string[] })
  | { kind: "batch"; statements: D1Statement[]; ok: boolean }
  | { kind: "exec"; sql: string; ok: boolean };

/** One Durable Object RPC call as the caller made it. */
export interface RpcRecord {
  class: string;
  object: string;
  method: string;
  args: unknown[];
  /** `ok` of a result value, or `null` for methods that return plain data. */
  ok: boolean | null;
}

export interface Recording {
  d1: D1Record[];
  messages: unknown[];
  rpc: RpcRecord[];
  /** Stops recording and restores the original methods. */
  stop(): void;
  /** Runs `fn` without recording (the capture's own reads). */
  quietly<T>(fn: () => Promise<T>): Promise<T>;
}

const encodeParam = (value: unknown): SqlParam => {
  if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) {
    const bytes =
      value instanceof ArrayBuffer
        ? new Uint8Array(value)
        : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    return { $bytes: btoa(String.fromCharCode(...bytes)) };
  }
  if (value === undefined) return null;
  return value as SqlParam;
};

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value ?? null)) as T;

type AnyFn = (...args: unknown[]) => unknown;

/** A Durable Object class and the RPC methods to record on it. */
export interface RecordedClass {
  prototype: object;
  methods: readonly string[];
}

/** Starts recording D1 statements, queue messages and RPC calls on the given object classes. */
export function record(objectClasses: Record<string, RecordedClass>): Recording {
  const restore: (() => void)[] = [];
  let paused = 0;
  const recording: Recording = {
    d1: [],
    messages: [],
    rpc: [],
    stop: () => {
      for (const undo of restore.reverse()) undo();
    },
    quietly: async (fn) => {
      paused++;
      try {
        return await fn();
      } finally {
        paused--;
      }
    },
  };
  const patch = (proto: object, name: string, wrap: (original: AnyFn) => AnyFn) => {
    const target = proto as Record<string, AnyFn>;
    const original = target[name];
    if (typeof original !== "function") throw new Error(`cannot record ${name}: not a method`);
    target[name] = wrap(original);
    restore.push(() => {
      target[name] = original;
    });
  };

  // D1: remember each prepared statement's SQL and bound values, record when it runs.
  const statements = new WeakMap<object, D1Statement>();
  const dbProto = Object.getPrototypeOf(env.DB) as object;
  const stmtProto = Object.getPrototypeOf(env.DB.prepare("SELECT 1")) as object;
  patch(
    dbProto,
    "prepare",
    (original) =>
      function (this: unknown, ...args: unknown[]) {
        const stmt = original.apply(this, args) as object;
        statements.set(stmt, { sql: String(args[0]), params: [] });
        return stmt;
      },
  );
  patch(
    stmtProto,
    "bind",
    (original) =>
      function (this: object, ...values: unknown[]) {
        const stmt = original.apply(this, values) as object;
        const sql = statements.get(this)?.sql;
        if (sql !== undefined) statements.set(stmt, { sql, params: values.map(encodeParam) });
        return stmt;
      },
  );
  for (const method of ["run", "all", "first", "raw"]) {
    patch(
      stmtProto,
      method,
      (original) =>
        async function (this: object, ...args: unknown[]) {
          const statement = statements.get(this);
          const entry =
            statement && paused === 0
              ? {
                  kind: "statement" as const,
                  ...statement,
                  ok: false,
                  columns: undefined as string[] | undefined,
                }
              : null;
          if (entry) recording.d1.push(entry);
          const result = await original.apply(this, args);
          if (entry) {
            entry.ok = true;
            const row =
              method === "all"
                ? (result as { results?: unknown[] }).results?.[0]
                : method === "first" && args.length === 0
                  ? result
                  : undefined;
            if (row && typeof row === "object") entry.columns = Object.keys(row);
            else delete entry.columns;
          }
          return result;
        },
    );
  }
  patch(
    dbProto,
    "batch",
    (original) =>
      async function (this: unknown, ...args: unknown[]) {
        const list = (args[0] as object[]).map((stmt) => statements.get(stmt));
        const entry =
          paused === 0 && list.every((s) => s !== undefined)
            ? { kind: "batch" as const, statements: list as D1Statement[], ok: false }
            : null;
        if (entry) recording.d1.push(entry);
        const result = await original.apply(this, args);
        if (entry) entry.ok = true;
        return result;
      },
  );
  patch(
    dbProto,
    "exec",
    (original) =>
      async function (this: unknown, ...args: unknown[]) {
        const entry = paused === 0 ? { kind: "exec" as const, sql: String(args[0]), ok: false } : null;
        if (entry) recording.d1.push(entry);
        const result = await original.apply(this, args);
        if (entry) entry.ok = true;
        return result;
      },
  );

  // Queues: every message body as the producer sent it.
  const queueProto = Object.getPrototypeOf(env.ORDER_EVENTS) as object;
  patch(
    queueProto,
    "send",
    (original) =>
      function (this: unknown, ...args: unknown[]) {
        if (paused === 0) recording.messages.push(clone(args[0]));
        return original.apply(this, args);
      },
  );
  patch(
    queueProto,
    "sendBatch",
    (original) =>
      function (this: unknown, ...args: unknown[]) {
        if (paused === 0) {
          for (const message of args[0] as { body: unknown }[]) recording.messages.push(clone(message.body));
        }
        return original.apply(this, args);
      },
  );

  // Durable Objects: each public RPC method of the given classes, with the caller's arguments.
  for (const [className, cls] of Object.entries(objectClasses)) {
    for (const method of cls.methods) {
      patch(
        cls.prototype,
        method,
        (original) =>
          async function (this: { ctx: DurableObjectState }, ...args: unknown[]) {
            const entry: RpcRecord = {
              class: className,
              object: this.ctx.id.name ?? this.ctx.id.toString(),
              method,
              args: clone(args),
              ok: null,
            };
            if (paused === 0) recording.rpc.push(entry);
            const result = await original.apply(this, args);
            if (result && typeof result === "object" && "ok" in result) entry.ok = Boolean(result.ok);
            return result;
          },
      );
    }
  }
  return recording;
}

/** Fields that identify what a request touched; later middleware and handlers fill them in. */
export interface RequestLog {
  fields: Record<string, string | number | boolean | undefined>;
}

export type LogLevel = "debug" | "info" | "warn" | "error";

/** One JSON object per line, so Workers Logs can index every field. */
export function log(level: LogLevel, message: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ level, message, time: new Date().toISOString(), ...fields });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}

/** Serialises an unknown thrown value for a log line without losing the stack. */
export function describeError(error: unknown): Record<string, unknown> {
  if (error instanceof Error) return { error: error.message, error_name: error.name, stack: error.stack };
  return { error: String(error) };
}

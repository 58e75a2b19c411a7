import type { Hook } from "@hono/zod-openapi";
import type { ZodError } from "zod";
import type { AppEnv } from "./env";
import { type FieldError, problems } from "./problem";

// Clients know "the body", not the validator that parsed it.
const TARGET_NAMES: Record<string, string> = { json: "body", form: "body" };

/** Flattens zod issues into `{ path, message }` with the input target as the first segment. */
export function fieldErrors(error: ZodError, target: string): FieldError[] {
  return error.issues.flatMap((issue) => {
    const path = [TARGET_NAMES[target] ?? target, ...issue.path.map(String)];
    // Name each unknown field itself, not just the object that carried it.
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({ path: [...path, key].join("."), message: "unknown field" }));
    }
    return [{ path: path.join("."), message: issue.message }];
  });
}

/**
 * The one validation hook for every route: a failing input throws a `validation_failed`
 * problem naming each bad field, instead of each route answering ad-hoc bodies.
 */
// biome-ignore lint/suspicious/noExplicitAny: the hook is shared by routes of every input type.
export const throwOnInvalid: Hook<any, AppEnv, any, any> = (result) => {
  if (!result.success) throw problems.validation(fieldErrors(result.error, result.target));
};

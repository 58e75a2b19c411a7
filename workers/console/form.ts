import { newId } from "../lib/ids";
import { CURRENCIES, type Currency } from "../lib/money";
import type { ConsoleContext } from "./context";

/** A console form's fields as strings (files are never expected and are dropped). */
export async function formFields(c: ConsoleContext): Promise<Record<string, string>> {
  const body = await c.req.parseBody();
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(body)) if (typeof value === "string") out[key] = value.trim();
  return out;
}

/** Every value of a repeated field (checkbox lists such as "replay these"). */
export async function formList(c: ConsoleContext, name: string): Promise<string[]> {
  const body = await c.req.parseBody({ all: true });
  const value = body[name];
  const values = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return values.filter((v): v is string => typeof v === "string");
}

/**
 * An integer from a form field; `undefined` when empty, NaN-free. Non-numbers pass through as
 * strings so the admin API's validation reports them with the field's name.
 */
export function intField(value: string | undefined): number | string | undefined {
  if (value === undefined || value === "") return undefined;
  return /^-?\d{1,15}$/.test(value) ? Number(value) : value;
}

/** Like `intField`, but an empty field means "no limit" (null). */
export const limitField = (value: string | undefined) => (value === "" ? null : intField(value));

/**
 * A `datetime-local` value read as UTC (the console labels these fields UTC): empty means
 * "no bound" (null); anything unparseable is passed on for the API to refuse by name.
 */
export function utcField(value: string | undefined): string | null | undefined {
  if (value === undefined) return undefined;
  if (value === "") return null;
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value)
    ? `${value.length === 16 ? `${value}:00` : value}Z`
    : value;
}

/** The inverse of `utcField` for pre-filling a `datetime-local` input. */
export const toUtcInput = (iso: string | null | undefined) =>
  iso ? new Date(iso).toISOString().slice(0, 16) : "";

/**
 * A fresh idempotency key rendered into a form: submitting the same page twice (a double
 * click, a retried POST after a dropped connection) repeats the request instead of doing it twice.
 */
export const formKey = () => newId("req");

/** The key a form carried, else a new one (a form without the field is still applied once). */
export const keyFrom = (fields: Record<string, string>) =>
  /^req_[0-9a-z]{20}$/.test(fields.idempotency_key ?? "") ? (fields.idempotency_key as string) : formKey();

/** "12.5" percent → 1250 basis points, without floats; null when it is not such a number. */
export function basisPoints(text: string): number | null {
  const match = /^(\d{1,3})(?:\.(\d{1,2}))?$/.exec(text);
  if (!match) return null;
  return Number(match[1]) * 100 + Number((match[2] ?? "").padEnd(2, "0"));
}

/** 1250 basis points → "12.5 %" (the inverse of `basisPoints`, for display). */
export function percentText(bp: number): string {
  const fraction = String(bp % 100)
    .padStart(2, "0")
    .replace(/0$/, "");
  return `${Math.trunc(bp / 100)}${bp % 100 ? `.${fraction}` : ""} %`;
}

/** 1250 minor units of EUR → "12.50", for pre-filling a money field (`parsePrice` reads it back). */
export function amountInput(amount: number, currency: Currency): string {
  const exponent = CURRENCIES[currency].exponent;
  if (exponent === 0) return String(amount);
  const unit = 10 ** exponent;
  return `${Math.trunc(amount / unit)}.${String(amount % unit).padStart(exponent, "0")}`;
}

import type { Child, FC } from "hono/jsx";
import { formatMoney, type Money } from "../lib/money";
import type { ProblemBody } from "../lib/problem";

/** A POST form carrying the session's CSRF token. */
export const PostForm: FC<{
  action: string;
  csrf: string;
  class?: string;
  label?: string;
  confirm?: string;
  children?: Child;
}> = ({ action, csrf, children, confirm, label, ...rest }) => (
  <form method="post" action={action} class={rest.class} aria-label={label} data-confirm={confirm}>
    <input type="hidden" name="_csrf" value={csrf} />
    {children}
  </form>
);

/** A labelled input; `hint` is tied to it with aria-describedby. */
export const Field: FC<{
  name: string;
  label: string;
  id?: string;
  type?: string;
  value?: string | number | null;
  required?: boolean;
  hint?: string;
  min?: number;
  max?: number;
  step?: string;
  placeholder?: string;
  inputmode?: "decimal" | "numeric";
  disabled?: boolean;
}> = ({ name, label, id, hint, value, ...input }) => {
  const fieldId = id ?? `f-${name}`;
  return (
    <div class="field">
      <label for={fieldId}>{label}</label>
      <input
        id={fieldId}
        name={name}
        value={value ?? ""}
        aria-describedby={hint ? `${fieldId}-hint` : undefined}
        {...input}
      />
      {hint ? (
        <small id={`${fieldId}-hint`} class="hint">
          {hint}
        </small>
      ) : null}
    </div>
  );
};

/** Explains why a section's forms are missing: the token can read but not change it. */
export const ReadOnly: FC<{ scope: string }> = ({ scope }) => (
  <p class="read-only">
    Read-only: this token lacks the <code>{scope}</code> scope.
  </p>
);

export const Amount: FC<{ money: Money | null | undefined }> = ({ money }) => (
  <span class="amount">{money ? formatMoney(money) : "—"}</span>
);

/** A refusal from the admin API in plain words, with the failing fields. */
export function problemText(problem: ProblemBody | null | undefined): string {
  if (!problem) return "The request failed.";
  const fields = (problem.errors ?? []).map((e) => `${e.path.replace(/^body\./, "")}: ${e.message}`);
  return [problem.detail ?? problem.title, ...fields].join(" · ");
}

export const when = (iso: string | null | undefined): string =>
  iso ? new Date(iso).toISOString().replace("T", " ").slice(0, 19) : "—";

/** A scrollable table (narrow screens scroll it, not the page) with column headers and a caption or a heading. */
export const DataTable: FC<{
  headers: (string | { hidden: string })[];
  caption?: string;
  labelledBy?: string;
  /** A data attribute on the body, for the live script to find it (e.g. `data-live-shards`). */
  bodyAttr?: string;
  children?: Child;
}> = ({ headers, caption, labelledBy, bodyAttr, children }) => (
  <div class="table-wrap">
    <table aria-labelledby={labelledBy}>
      {caption ? <caption>{caption}</caption> : null}
      <thead>
        <tr>
          {headers.map((h) => (
            <th scope="col">{typeof h === "string" ? h : <span class="visually-hidden">{h.hidden}</span>}</th>
          ))}
        </tr>
      </thead>
      <tbody {...(bodyAttr ? { [bodyAttr]: "" } : {})}>{children}</tbody>
    </table>
  </div>
);

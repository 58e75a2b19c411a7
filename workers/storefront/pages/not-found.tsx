import type { FC } from "hono/jsx";

/** Friendly 404 for unknown products and categories. */
export const NotFoundPage: FC<{ what: string }> = ({ what }) => (
  <section aria-labelledby="nf-heading">
    <h1 id="nf-heading">We couldn't find that {what}</h1>
    <p>It may have been renamed or is no longer sold.</p>
    <p>
      <a href="/">Back to the home page</a> or use the search box above.
    </p>
  </section>
);

/** Shown when rendering a page fails; the request id lets support find the log line. */
export const ErrorPage: FC<{ requestId: string }> = ({ requestId }) => (
  <section aria-labelledby="err-heading">
    <h1 id="err-heading">Something went wrong</h1>
    <p>Please try again in a moment.</p>
    <p>
      Reference: <code>{requestId}</code>
    </p>
  </section>
);

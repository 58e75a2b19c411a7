/** Vite's `?raw` imports: a file's text, for tests that check config files stay in sync. */
declare module "*?raw" {
  const content: string;
  export default content;
}

/** Vite's `import.meta.glob`, eager form: the compat suites load every release's fixture files. */
interface ImportMeta {
  glob<T>(pattern: string, options: { eager: true; import: "default" }): Record<string, T>;
}

/** Vite's `?raw` imports: a file's text, for tests that check config files stay in sync. */
declare module "*?raw" {
  const content: string;
  export default content;
}

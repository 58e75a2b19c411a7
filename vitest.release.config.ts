import { ReleaseFixturesReporter } from "./scripts/lib/release-fixtures-reporter.mjs";
import base from "./vitest.config.ts";

// `npm run release:fixtures`: runs only the capture (test/release/capture.release.ts) in the same
// workerd set-up as the suite, and writes what it captured to test/fixtures/releases/<release>/.
export default {
  ...base,
  test: {
    ...base.test,
    include: ["test/release/capture.release.ts"],
    reporters: ["default", new ReleaseFixturesReporter()],
    testTimeout: 120_000,
  },
};

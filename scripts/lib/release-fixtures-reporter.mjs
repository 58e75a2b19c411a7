import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Vitest reporter for the fixture capture: the capture test runs inside workerd and hands its
 * fixtures over as test metadata; this writes them to POPCART_FIXTURES_DIR as JSON files.
 */
export class ReleaseFixturesReporter {
  /** @type {any} */
  fixtures = undefined;

  onTestCaseResult(testCase) {
    const fixtures = testCase.meta().releaseFixtures;
    if (fixtures) this.fixtures = fixtures;
  }

  onTestRunEnd(_modules, errors, reason) {
    const dir = process.env.POPCART_FIXTURES_DIR;
    if (!dir) throw new Error("POPCART_FIXTURES_DIR is not set: run npm run release:fixtures");
    if (reason !== "passed" || errors.length > 0 || !this.fixtures) {
      console.error(`\nCapture failed (${reason}); nothing written to ${dir}.`);
      process.exitCode = 1;
      return;
    }
    const { manifest, events, d1, rpc, storage } = this.fixtures;
    const files = {
      "manifest.json": {
        ...manifest,
        release: process.env.POPCART_RELEASE,
        commit: process.env.POPCART_COMMIT ?? null,
      },
      "events.json": events,
      "d1-queries.json": d1,
      "rpc-calls.json": rpc,
      "storage.json": storage,
    };
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    for (const [name, content] of Object.entries(files)) {
      writeFileSync(join(dir, name), `${JSON.stringify(content, null, 1)}\n`);
    }
    console.log(
      `\nWrote ${dir}: ${events.length} messages, ${d1.length} D1 calls, ${rpc.length} RPC methods, ${storage.objects.length} objects.`,
    );
  }
}

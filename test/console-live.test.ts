import { describe, expect, it } from "vitest";
import { LiveHub } from "../workers/console/live-hub";
import { ConsoleClient } from "./console-fixtures";
import { ADMIN, callJson } from "./helpers";
import { randomSku, stockSku } from "./inventory-fixtures";

/** A clock tests move by hand. */
const clock = (start = 1_000_000) => {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
};

describe("live fan-out hub", () => {
  it("serves every viewer of a SKU from one load per second", async () => {
    const time = clock();
    const hub = new LiveHub(1000, 5000, time.now);
    let loads = 0;
    const load = async () => JSON.stringify({ load: ++loads });
    // 50 viewers, 3 ticks each: three loads in all, not 150.
    for (let tick = 0; tick < 3; tick++) {
      const first = await hub.read("SKU-A", load);
      const others = await Promise.all(Array.from({ length: 49 }, () => hub.read("SKU-A", load)));
      expect(new Set([first, ...others])).toEqual(new Set([JSON.stringify({ load: tick + 1 })]));
      time.advance(1000);
    }
    expect(loads).toBe(3);
    expect(hub.loads).toBe(3);
  });

  it("keeps serving the last copy while one viewer reloads, instead of piling onto the object", async () => {
    const time = clock();
    const hub = new LiveHub(1000, 5000, time.now);
    await hub.read("SKU-B", async () => "v1");
    time.advance(1500);
    let release: (v: string) => void = () => {};
    const slow = hub.read("SKU-B", () => new Promise<string>((resolve) => (release = resolve)));
    expect(await hub.read("SKU-B", async () => "never")).toBe("v1");
    release("v2");
    expect(await slow).toBe("v2");
    expect(hub.loads).toBe(2);
  });

  it("retries a load that never finished (its request went away) once it is presumed lost", async () => {
    const time = clock();
    const hub = new LiveHub(1000, 5000, time.now);
    void hub.read("SKU-C", () => new Promise<string>(() => {}));
    time.advance(4000);
    expect(await hub.read("SKU-C", async () => "too early")).toBeNull();
    time.advance(1500);
    expect(await hub.read("SKU-C", async () => "reloaded")).toBe("reloaded");
  });
});

/** Reads server-sent events from a stream until `stop` accepts one (or the deadline passes). */
async function readEvents(
  body: ReadableStream<Uint8Array>,
  stop: (event: { event: string; data: string }) => boolean,
  deadlineMs = 10_000,
) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const events: { event: string; data: string }[] = [];
  let buffer = "";
  const deadline = Date.now() + deadlineMs;
  try {
    while (Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end = buffer.indexOf("\n\n");
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1] ?? "message";
        const data = /^data: (.*)$/m.exec(block)?.[1] ?? "";
        events.push({ event, data });
        if (stop({ event, data })) return events;
        end = buffer.indexOf("\n\n");
      }
    }
    return events;
  } finally {
    await reader.cancel();
  }
}

describe("console live stream", () => {
  it("pushes a SKU's counters, then a new hold as it is placed", async () => {
    const sku = randomSku("LIVE");
    await stockSku(sku, 10);
    const client = new ConsoleClient();
    await client.session();
    const res = await client.request(`/admin/live?skus=${sku}`, { headers: { accept: "text/event-stream" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    let held = false;
    const events = await readEvents(res.body as ReadableStream<Uint8Array>, ({ event, data }) => {
      if (event !== "inventory") return false;
      const view = JSON.parse(data) as { reserved: number; reservations: { holder: string }[] };
      if (!held) {
        held = true;
        // The first snapshot arrived: now a shopper takes a unit.
        void callJson(
          `/admin/api/inventory/${sku}/reservations`,
          "POST",
          { holder: "cart_live", quantity: 2 },
          ADMIN,
        );
        return false;
      }
      return view.reserved === 2 && view.reservations.some((r) => r.holder === "cart_live");
    });
    const updates = events.filter((e) => e.event === "inventory").map((e) => JSON.parse(e.data));
    expect(updates[0]).toMatchObject({ sku, on_hand: 10, available: 10, reserved: 0 });
    expect(updates.at(-1)).toMatchObject({ sku, available: 8, reserved: 2 });
  });

  it("needs a session, and the inventory:read scope", async () => {
    const anonymous = await new ConsoleClient().request("/admin/live?skus=X", {
      headers: { accept: "text/event-stream" },
    });
    expect(anonymous.status).toBe(401);
    const reader = new ConsoleClient();
    await reader.session("catalog-reader-token");
    const res = await reader.request("/admin/live?skus=X", { headers: { accept: "text/event-stream" } });
    expect(res.status).toBe(403);
  });
});

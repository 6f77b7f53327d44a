/**
 * Tests of transport/zmq.ts on real libzmq sockets over ipc:// in a temporary
 * folder: multipart frames arrive byte for byte (empty and large ones too),
 * empty and full sockets fail with EAGAIN, PUB/SUB, CURVE, readable/closed
 * and bind errors. Needs --allow-ffi and read/write for the temp folder.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  curveKeyPair,
  Dealer,
  hasCurve,
  pollReadable,
  Publisher,
  Router,
  type Socket,
  Subscriber,
  waitReadable,
} from "./zmq.ts";
import { Connections, EVENT } from "./monitor.ts";

async function withSockets(
  fn: (dir: string, track: <S extends Socket>(s: S) => S) => Promise<void>,
) {
  const dir = await Deno.makeTempDir({ prefix: "zpix-zmq-test-" });
  const sockets: Socket[] = [];
  try {
    await fn(dir, (s) => (sockets.push(s), s));
  } finally {
    for (const s of sockets) s.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Sends, retrying while the peer is not connected yet (EAGAIN). */
async function sendSoon(socket: Socket, frames: Uint8Array[]) {
  for (let i = 0;; i++) {
    try {
      return await socket.send(frames);
    } catch (error) {
      if ((error as { code?: string }).code !== "EAGAIN" || i > 2000) throw error;
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }
}

async function receiveSoon(socket: Socket): Promise<Uint8Array[]> {
  for (let i = 0; !socket.readable; i++) {
    if (i > 500) throw new Error("nothing arrived");
    await waitReadable(socket, 10);
  }
  return await socket.receive();
}

const bytes = (text: string) => new TextEncoder().encode(text);

Deno.test("ROUTER/DEALER: multipart frames byte for byte, routing id, reply", async () => {
  await withSockets(async (dir, track) => {
    const endpoint = `ipc://${join(dir, "tasks")}`;
    const router = track(new Router({ linger: 0, receiveHighWaterMark: 100 }));
    await router.bind(endpoint);
    const dealer = track(new Dealer({ linger: 0, routingId: "w7", immediate: true }));
    dealer.connect(endpoint);
    const big = new Uint8Array(300_000).map((_, i) => i % 251);
    await sendSoon(dealer, [bytes("header"), new Uint8Array(0), big]);
    const [id, header, empty, payload] = await receiveSoon(router);
    assert.equal(new TextDecoder().decode(id), "w7");
    assert.equal(new TextDecoder().decode(header), "header");
    assert.equal(empty.length, 0);
    assert.deepEqual(payload, big);
    await router.send([id, bytes("back")]);
    // The descriptor says "look again" (a message, or only a command libzmq had to process).
    for (let i = 0; !dealer.readable; i++) {
      assert.ok(i < 100, "no reply");
      pollReadable(dealer, 100);
    }
    assert.deepEqual(await dealer.receive(), [bytes("back")]);
    assert.equal(dealer.readable, false);
    await assert.rejects(dealer.receive(), (error: { code?: string }) => error.code === "EAGAIN");
  });
});

Deno.test("a DEALER with immediate and no peer refuses to queue (EAGAIN)", async () => {
  await withSockets(async (dir, track) => {
    const dealer = track(new Dealer({ linger: 0, immediate: true }));
    dealer.connect(`ipc://${join(dir, "nobody")}`);
    await assert.rejects(
      dealer.send([bytes("x")]),
      (error: { code?: string; message: string }) =>
        error.code === "EAGAIN" && /send: Resource temporarily unavailable/.test(error.message),
    );
  });
});

Deno.test("reconnectIntervalMax: a DEALER that connected before the bind, backing off, gets through once it is there", async () => {
  await withSockets(async (dir, track) => {
    const endpoint = `ipc://${join(dir, "late")}`;
    const dealer = track(
      new Dealer({ linger: 0, immediate: true, reconnectInterval: 10, reconnectIntervalMax: 100 }),
    );
    dealer.connect(endpoint);
    // Refused tries at 10, 20, 40, 80, 100, 100 ms...: the bind comes after several.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const router = track(new Router({ linger: 0 }));
    await router.bind(endpoint);
    await sendSoon(dealer, [bytes("late")]);
    const [, header] = await receiveSoon(router);
    assert.equal(new TextDecoder().decode(header), "late");
  });
});

Deno.test("PUB/SUB: a subscriber to every topic gets broadcasts", async () => {
  await withSockets(async (dir, track) => {
    const endpoint = `ipc://${join(dir, "tasks.pub")}`;
    const pub = track(new Publisher({ linger: 0 }));
    await pub.bind(endpoint);
    const sub = track(new Subscriber({ linger: 0 }));
    sub.connect(endpoint);
    sub.subscribe();
    // A late joiner misses what was sent before it connected: publish until it hears.
    for (let i = 0; !sub.readable; i++) {
      assert.ok(i < 500, "no broadcast arrived");
      await pub.send([bytes("quit"), bytes("{}")]);
      await waitReadable(sub, 10);
    }
    assert.deepEqual(await sub.receive(), [bytes("quit"), bytes("{}")]);
  });
});

Deno.test("Connections: a bound PUB's subscribers counted as they connect and as each closes", async () => {
  await withSockets(async (dir, track) => {
    const endpoint = `ipc://${join(dir, "tasks.pub")}`;
    const pub = new Publisher({ linger: 0 });
    const connections = new Connections(pub.monitor(EVENT.accepted | EVENT.disconnected));
    try {
      await pub.bind(endpoint);
      const until = async (open: number) => {
        for (let i = 0; connections.open() !== open; i++) {
          assert.ok(i < 500, `never ${open} open (${connections.open()})`);
          await waitReadable(connections.monitor, 10);
        }
      };
      const subs = [0, 1].map(() => {
        const sub = track(new Subscriber({ linger: 0 }));
        sub.connect(endpoint);
        return sub;
      });
      await until(2);
      subs[0].close();
      await until(1);
      subs[1].close();
      await until(0);
    } finally {
      connections.close();
      assert.equal(connections.open(), 0);
      pub.close();
    }
  });
});

Deno.test("CURVE: key pairs, an encrypted round trip, a wrong server key gets nothing", async () => {
  assert.ok(hasCurve());
  const server = curveKeyPair(), client = curveKeyPair();
  assert.match(server.publicKey, /^[0-9a-zA-Z.\-:+=^!/*?&<>()[\]{}@%$#]{40}$/);
  assert.notEqual(server.publicKey, client.publicKey);
  await withSockets(async (dir, track) => {
    const endpoint = `ipc://${join(dir, "secure")}`;
    const router = track(
      new Router({ linger: 0, curveServer: true, curveSecretKey: server.secretKey }),
    );
    await router.bind(endpoint);
    const good = track(
      new Dealer({
        linger: 0,
        routingId: "good",
        curveServerKey: server.publicKey,
        curvePublicKey: client.publicKey,
        curveSecretKey: client.secretKey,
      }),
    );
    good.connect(endpoint);
    await sendSoon(good, [bytes("secret")]);
    assert.deepEqual((await receiveSoon(router)).map((f) => new TextDecoder().decode(f)), [
      "good",
      "secret",
    ]);
    const stranger = curveKeyPair();
    const bad = track(
      new Dealer({
        linger: 0,
        routingId: "bad",
        curveServerKey: stranger.publicKey,
        curvePublicKey: client.publicKey,
        curveSecretKey: client.secretKey,
      }),
    );
    bad.connect(endpoint);
    await bad.send([bytes("let me in")]).catch(() => {});
    await waitReadable(router, 300);
    assert.equal(router.readable, false, "the handshake fails: nothing reaches the router");
  });
});

Deno.test("bind errors say why; a closed socket refuses I/O", async () => {
  await withSockets(async (dir, track) => {
    const endpoint = `ipc://${join(dir, "once")}`;
    const a = track(new Router({ linger: 0 }));
    await a.bind(endpoint);
    const tcp = track(new Router({ linger: 0 }));
    await assert.rejects(tcp.bind("tcp://256.0.0.1:1"), /bind tcp:\/\/256\.0\.0\.1:1: /);
    a.close();
    assert.equal(a.closed, true);
    assert.equal(a.readable, false);
    assert.equal(a.fd, null);
    await assert.rejects(a.send([bytes("x")]), /closed/);
    await assert.rejects(a.receive(), /closed/);
  });
});

Deno.test("signals interrupting libzmq calls (EINTR) are retried, not thrown", async () => {
  // A child that creates, binds and connects 300 socket pairs, then bounces 3000 messages,
  // while V8's sampling profiler sends it a SIGPROF every 100 microseconds: each signal can
  // interrupt a libzmq call.
  await withSockets(async (dir) => {
    const script = join(dir, "bounce.ts");
    await Deno.writeTextFile(
      script,
      `import { Dealer, Router, waitReadable, pollReadable } from ${
        JSON.stringify(new URL("./zmq.ts", import.meta.url).href)
      };
      for (let i = 0; i < 300; i++) {
        const r = new Router({ linger: 0 }), d = new Dealer({ linger: 0 });
        await r.bind("ipc://${join(dir, "churn")}" + i);
        d.connect("ipc://${join(dir, "churn")}" + i);
        d.close();
        r.close();
      }
      const router = new Router({ linger: 0 });
      await router.bind("ipc://${join(dir, "bounce")}");
      const dealer = new Dealer({ linger: 0, routingId: "d" });
      dealer.connect("ipc://${join(dir, "bounce")}");
      for (let i = 0; i < 3000; i++) {
        for (;;) { try { await dealer.send([new Uint8Array([i & 255])]); break; }
          catch (e) { if (e.code !== "EAGAIN") throw e; await new Promise((r) => setTimeout(r, 1)); } }
        while (!router.readable) await waitReadable(router, 10);
        const [id, body] = await router.receive();
        await router.send([id, body]);
        while (!dealer.readable) pollReadable(dealer, 10);
        const [back] = await dealer.receive();
        if (back[0] !== (i & 255)) throw new Error("wrong message");
      }
      console.log("bounced");`,
    );
    const run = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-lock",
        `--config=${new URL("../deno.json", import.meta.url).pathname}`,
        "--allow-read",
        "--allow-write",
        "--allow-ffi",
        "--v8-flags=--prof,--prof-sampling-interval=100",
        script,
      ],
      cwd: dir, // V8's profile log goes there
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(run.stderr);
    assert.equal(run.code, 0, stderr);
    assert.equal(new TextDecoder().decode(run.stdout).trim(), "bounced");
  });
});

Deno.test("maxMessageSize: a peer sending a larger frame is dropped, others get through", async () => {
  await withSockets(async (dir, track) => {
    const endpoint = `ipc://${join(dir, "tasks")}`;
    const router = track(new Router({ linger: 0, maxMessageSize: 1000 }));
    await router.bind(endpoint);
    const big = track(new Dealer({ linger: 0, routingId: "big" }));
    const small = track(new Dealer({ linger: 0, routingId: "small" }));
    big.connect(endpoint);
    small.connect(endpoint);
    await sendSoon(big, [new Uint8Array(1001)]);
    await sendSoon(small, [new Uint8Array(1000)]);
    const [id, frame] = await receiveSoon(router);
    assert.equal(new TextDecoder().decode(id), "small");
    assert.equal(frame.length, 1000);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(router.readable, false, "the oversized frame never arrives");
  });
});

Deno.test("receive(cap): frames after the first over cap(first) bytes are not copied", async () => {
  await withSockets(async (dir, track) => {
    const endpoint = `ipc://${join(dir, "tasks")}`;
    const router = track(new Router({ linger: 0 }));
    await router.bind(endpoint);
    const dealer = track(new Dealer({ linger: 0, routingId: "stranger" }));
    dealer.connect(endpoint);
    await sendSoon(dealer, [bytes("small"), new Uint8Array(5000)]);
    for (let i = 0; !router.readable; i++) await waitReadable(router, 10);
    const frames = await router.receive((id) =>
      new TextDecoder().decode(id) === "friend" ? Infinity : 100
    );
    assert.deepEqual(frames.map((f) => f.length), [8, 5, 0]);
  });
});

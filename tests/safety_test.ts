/**
 * Local safety (issue 13, items 9 and 10): messages that say what is wrong,
 * temporary names that fit NAME_MAX, reports written atomically, --output
 * compared with --input after following symlinks, output size bounded by
 * --max-pixels (sequential, local and remote workers), stale ipc folders of
 * killed runs removed, a refused CURVE handshake named. Real zpix processes,
 * real files and sockets; each test checks exit codes, messages, and that
 * inputs and outputs are as they must be.
 *
 * @module
 */

import * as zmq from "../transport/zmq.ts";
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { decodeServerMessage, type ServerMessage } from "../transport/protocol.ts";
import { receiveAll, SOCKET_OPTIONS } from "../transport/socket_io.ts";
import { nextWithin, SERVE_FLAGS, sleep, spawnZpix, WORKER_FLAGS, ZPIX_FLAGS } from "./helpers.ts";
import { OWNER_LOCK, PRIVATE_PREFIX, removeStaleDirs } from "../broker/private_dir.ts";
import { TEMP_MARKER } from "../core/atomic.ts";
import {
  allExist,
  listTree,
  readReport,
  startRun,
  temporaries,
  waitUntil,
  withRunDir,
  writeImages,
} from "./reliability_helpers.ts";

Deno.test("a small --max-pixels is said in exact pixels, not as 0 megapixels", async () => {
  await withRunDir(async (dir) => {
    await writeImages(join(dir, "in"), ["a.jpg"]); // 64x48
    const report = join(dir, "report.json");
    const run = await startRun([
      "sequential",
      ...["-i", join(dir, "in"), "-o", join(dir, "out"), "--max-pixels", "100", "-q"],
      ...["--size", "8x8"],
      ...["--report", report],
    ]).done;
    assert.equal(run.code, 1, run.stderr);
    assert.deepEqual((await readReport(report)).failed, [{
      path: "a.jpg",
      error: "image is 64x48 = 3,072 pixels, over the limit of 100 pixels (--max-pixels)",
    }]);
  });
});

Deno.test('a join whose protocol version is the string "1" is refused, and told why', async () => {
  await withRunDir(async (dir) => {
    await writeImages(join(dir, "in"), ["a.jpg"]);
    const endpoint = `ipc://${dir}/serve`;
    const server = spawnZpix([
      "serve",
      ...["--bind", endpoint, "--workers", "0", "-i", join(dir, "in"), "-o", join(dir, "out")],
    ], { flags: SERVE_FLAGS });
    const dealer = new zmq.Dealer({ ...SOCKET_OPTIONS, routingId: "raw-1" });
    try {
      dealer.connect(endpoint);
      const join_ = { v: "1", type: "join", pid: 1, host: "raw", local: false, token: null };
      await dealer.send([new TextEncoder().encode(JSON.stringify(join_))]);
      const frames = await nextWithin(receiveAll(dealer), 15_000, "an answer to the join");
      const { message } = decodeServerMessage(frames as Uint8Array[]);
      assert.deepEqual(
        message,
        {
          type: "refused",
          reason: 'protocol version "1" (a string), expected the number 1',
        } satisfies ServerMessage,
      );
      server.child.kill("SIGTERM");
      const out = await server.output;
      assert.equal(out.code, 143, out.stderr);
      assert.match(
        out.stderr,
        /ignoring a bad message from raw-1: protocol version "1" \(a string\), expected the number 1/,
      );
    } finally {
      dealer.close();
      try {
        server.child.kill("SIGKILL");
      } catch {
        // finished
      }
      await server.output;
    }
  });
});

Deno.test("names of up to 255 bytes (NAME_MAX) are written, ASCII or not, with no temporary left", async () => {
  await withRunDir(async (dir) => {
    const names = [
      "a".repeat(251) + ".jpg", // 255 bytes
      "é".repeat(125) + "x.jpg", // 255 bytes, two-byte characters
      "😀".repeat(57) + "b".repeat(22) + ".png", // 255 bytes, four-byte characters
      "c".repeat(230) + ".jpg", // 234 bytes: the temporary of 231+ bytes used to be too long
    ];
    for (const name of names) assert.ok(new TextEncoder().encode(name).length <= 255, name);
    const input = join(dir, "in");
    await writeImages(input, names);
    for (const mode of ["sequential", "parallel"]) {
      const out = join(dir, `out-${mode}`);
      const report = join(dir, `${mode}.json`);
      const run = await startRun([
        mode,
        ...["-i", input, "-o", out, "--size", "16x16", "-q", "--report", report],
        ...(mode === "parallel" ? ["-w", "1"] : []),
      ]).done;
      assert.equal(run.code, 0, `${mode}: ${run.stderr}`);
      assert.deepEqual((await readReport(report)).failed, [], mode);
      const written = (await Array.fromAsync(Deno.readDir(out))).map((e) => e.name).sort();
      assert.deepEqual(written, [...names].sort(), mode);
      assert.deepEqual(await temporaries(out), [], mode);
    }
  });
});

/** Mounts a tmpfs at `dir` (root only); false, with a message, where that is not permitted. */
async function mountTmpfs(dir: string, options: string): Promise<boolean> {
  await Deno.mkdir(dir, { recursive: true });
  try {
    const out = await new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", options, "tmpfs", dir],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (out.success) return true;
    console.log(`skipped: cannot mount a tmpfs: ${new TextDecoder().decode(out.stderr).trim()}`);
  } catch (error) {
    console.log(`skipped: cannot run mount: ${(error as Error).message}`);
  }
  return false;
}

Deno.test("a report that does not fit on the disk leaves the previous one whole: exit 3, one line", async () => {
  await withRunDir(async (dir) => {
    await writeImages(join(dir, "in"), ["a.jpg", "b.png"]);
    const reports = join(dir, "reports");
    if (!(await mountTmpfs(reports, "size=64k"))) return;
    try {
      const previous = "<!doctype html><p>the previous run's report</p>\n";
      await Deno.writeTextFile(join(reports, "run.html"), previous);
      // Fill the disk but one 4 KiB page: a report page (tens of KB) cannot fit.
      await Deno.writeFile(join(reports, "filler"), new Uint8Array(56 * 1024));
      const run = await startRun([
        "parallel",
        ...["-i", join(dir, "in"), "-o", join(dir, "out"), "--size", "16x16", "-w", "1", "-q"],
        ...["--report", join(reports, "run.html")],
      ]).done;
      assert.equal(run.code, 3, run.stderr);
      assert.match(run.stderr, /^zpix: error: cannot write --report .*run\.html: disk full$/);
      assert.equal(await Deno.readTextFile(join(reports, "run.html")), previous);
      assert.deepEqual(await temporaries(reports), []);
      assert.deepEqual(
        (await Array.fromAsync(Deno.readDir(join(dir, "out")))).map((e) => e.name).sort(),
        ["a.jpg", "b.png"],
      );
    } finally {
      await new Deno.Command("umount", { args: [reports] }).output();
    }
  });
});

/** Every path under `dir` with its bytes (files) or link target (symlinks). */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const path of await listTree(dir)) {
    const full = join(dir, path);
    const stat = await Deno.lstat(full);
    out.set(
      path,
      stat.isSymlink
        ? `-> ${await Deno.readLink(full)}`
        : stat.isFile
        ? Array.from(await Deno.readFile(full), (b) => b.toString(16)).join("")
        : "folder",
    );
  }
  return out;
}

Deno.test("an --output that leads back onto --input through a symlink is refused: exit 2, inputs untouched", async () => {
  await withRunDir(async (dir) => {
    const input = join(dir, "in");
    await writeImages(input, ["a.jpg", "b.png"]);
    await writeImages(join(input, "sub"), ["c.jpg"]);
    await Deno.symlink(input, join(dir, "link")); // link -> in
    await Deno.mkdir(join(dir, "o"));
    await Deno.symlink(join(dir, "link"), join(dir, "o", "deep")); // o/deep -> link -> in
    // in2/s/a.jpg and in2/s/s/a.jpg: with -i in2/s -o in2 -r, the second's output is the first.
    const nested = join(dir, "in2");
    await writeImages(join(nested, "s"), ["a.jpg"]);
    await writeImages(join(nested, "s", "s"), ["a.jpg"]);
    const before = await snapshot(dir);
    const cases: [string[], RegExp][] = [
      [
        ["sequential", "-i", input, "-o", join(dir, "link")],
        /^zpix: error: --output .*\/link is --input .*\/in once symlinks are followed \(both are .*\/in\): zpix never overwrites its inputs$/m,
      ],
      [
        ["parallel", "-w", "1", "-r", "-i", input, "-o", join(dir, "link")],
        /once symlinks are followed/,
      ],
      [
        ["sequential", "-r", "-i", input, "-o", join(dir, "o", "deep")],
        /once symlinks are followed/,
      ],
      [
        ["parallel", "-w", "1", "-r", "-i", join(nested, "s"), "-o", nested],
        /^zpix: error: --output .*\/in2 would overwrite the input a\.jpg with the output of s\/a\.jpg \(.*\): zpix never overwrites its inputs$/m,
      ],
    ];
    for (const [args, message] of cases) {
      const run = await startRun([...args, "--size", "16x16", "-q"]).done;
      assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
      assert.match(run.stderr, message);
      assert.deepEqual(await snapshot(dir), before, `${args.join(" ")} changed files`);
    }

    // A bind mount of --input (root only): the same folder by another path, no symlink at all.
    const bound = join(dir, "bound");
    await Deno.mkdir(bound);
    const mounted = await new Deno.Command("mount", {
      args: ["--bind", input, bound],
      stderr: "null",
    })
      .output().then((out) => out.success, () => false);
    if (mounted) {
      try {
        const run = await startRun(["sequential", "-i", input, "-o", bound, "--size", "16x16"])
          .done;
        assert.equal(run.code, 2, run.stderr);
        assert.match(run.stderr, /once mounts are followed \(the same folder: a bind mount\?\)/);
      } finally {
        await new Deno.Command("umount", { args: [bound] }).output();
      }
    } else console.log("skipped the bind mount: mount --bind is not permitted here");
    await Deno.remove(bound);
    assert.deepEqual(await snapshot(dir), before, "the bind mount run changed files");

    // An --output inside --input through a link is fine: its files are not read back as inputs.
    const run = await startRun([
      "sequential",
      ...["-r", "-i", input, "-o", join(dir, "link", "small"), "--size", "16x16", "-q"],
    ]).done;
    assert.equal(run.code, 0, run.stderr);
    const after = await snapshot(dir);
    for (const [path, bytes] of before) assert.equal(after.get(path), bytes, path);
    assert.deepEqual(
      (await listTree(join(input, "small"))).sort(),
      ["a.jpg", "b.png", "sub", "sub/c.jpg"],
    );
  });
});

Deno.test("a resize whose output is over --max-pixels is a usage error: exit 2, nothing written", async () => {
  await withRunDir(async (dir) => {
    await writeImages(join(dir, "in"), ["a.jpg"]);
    const out = join(dir, "out");
    const cases: [string[], string][] = [
      [
        ["--op", "resize=65535x65535"],
        "--op resize=65535x65535 makes 65535x65535 = 4294.8 megapixels, over the limit of 100 megapixels",
      ],
      [
        ["--size", "2000", "2000", "--max-pixels", "1000000"],
        "--size 2000x2000 makes 2000x2000 = 4 megapixels, over the limit of 1 megapixels",
      ],
      [
        ["--op", "gray", "--op", "resize=100x100:contain", "--max-pixels", "9999"],
        "--op resize=100x100:contain makes 100x100 = 10,000 pixels, over the limit of 9,999 pixels",
      ],
    ];
    for (const [extra, message] of cases) {
      const run = await startRun([
        "parallel",
        "-w",
        "1",
        "-i",
        join(dir, "in"),
        "-o",
        out,
        ...extra,
      ])
        .done;
      assert.equal(run.code, 2, run.stderr);
      assert.ok(
        run.stderr.startsWith(
          `zpix: error: ${message} (--max-pixels): ask for a smaller size or raise --max-pixels\n`,
        ),
        run.stderr,
      );
      await assert.rejects(Deno.lstat(out), Deno.errors.NotFound);
    }
  });
});

Deno.test("an image whose output would pass --max-pixels fails before its pixels are allocated", async () => {
  await withRunDir(async (dir) => {
    const input = join(dir, "in");
    await writeImages(input, ["a.jpg", "b.png"]); // 64x48
    await writeImages(input, ["tall.jpg"], 8, 256);
    const expected = (name: string, made: string) =>
      `resize=20000x20000:inside would make this ${name} image ${made}, over the limit of 100 megapixels (--max-pixels)`;
    for (const mode of ["sequential", "parallel"]) {
      const out = join(dir, `out-${mode}`), report = join(dir, `${mode}.json`);
      const started = performance.now();
      const run = await startRun([
        mode,
        ...["-i", input, "-o", out, "--op", "resize=20000x20000:inside", "--format", "png"],
        ...["--report", report, "-q", ...(mode === "parallel" ? ["-w", "1"] : [])],
      ]).done;
      const seconds = (performance.now() - started) / 1000;
      assert.equal(run.code, 1, run.stderr);
      // a.jpg takes the fused JPEG path, b.png the general one; tall.jpg's output fits
      assert.deepEqual((await readReport(report)).failed, [
        { path: "a.jpg", error: expected("64x48", "20000x15000 = 300 megapixels") },
        { path: "b.png", error: expected("64x48", "20000x15000 = 300 megapixels") },
      ]);
      assert.deepEqual(await listTree(out), ["tall.png"]);
      // 625x20000 = 12.5 megapixels: written, since it fits
      assert.ok(seconds < 30, `${mode} took ${seconds} s`);
    }
    // A cover resize's scaled image counts too, even when the crop fits.
    const run = await startRun([
      "sequential",
      ...["-i", input, "-o", join(dir, "cover"), "--op", "resize=1000x1000:cover"],
      ...["--max-pixels", "2000000", "--report", join(dir, "cover.json"), "-q"],
    ]).done;
    assert.equal(run.code, 1, run.stderr);
    assert.deepEqual((await readReport(join(dir, "cover.json"))).failed, [{
      path: "tall.jpg",
      error:
        "resize=1000x1000:cover would make this 8x256 image 1000x32000 = 32 megapixels, over the limit of 2 megapixels (--max-pixels)",
    }]);
  });
});

Deno.test("a remote worker fails an image whose output would pass --max-pixels, with the numbers", async () => {
  await withRunDir(async (dir) => {
    await writeImages(join(dir, "in"), ["a.jpg", "b.png"]);
    const endpoint = `ipc://${dir}/serve`, report = join(dir, "report.json");
    const server = spawnZpix([
      "serve",
      ...["--bind", endpoint, "--workers", "0", "-i", join(dir, "in"), "-o", join(dir, "out")],
      ...["--op", "resize=20000x20000:inside", "--report", report, "-q"],
    ], { flags: SERVE_FLAGS });
    const worker = spawnZpix(["worker", "--connect", endpoint], { flags: WORKER_FLAGS });
    const timer = setTimeout(() => server.child.kill("SIGKILL"), 60_000);
    try {
      const out = await server.output;
      assert.equal(out.code, 1, out.stderr);
      const made = "20000x15000 = 300 megapixels, over the limit of 100 megapixels (--max-pixels)";
      assert.deepEqual((await readReport(report)).failed, [
        { path: "a.jpg", error: `resize=20000x20000:inside would make this 64x48 image ${made}` },
        { path: "b.png", error: `resize=20000x20000:inside would make this 64x48 image ${made}` },
      ]);
      assert.deepEqual(await listTree(join(dir, "out")), []);
      assert.equal((await worker.output).code, 0);
    } finally {
      clearTimeout(timer);
      try {
        worker.child.kill("SIGKILL");
      } catch {
        // exited
      }
      await worker.output;
    }
  });
});

Deno.test("a run sweeps a dead writer's temporary, never a live one's: two runs can share an output folder", async () => {
  await withRunDir(async (dir) => {
    const input = join(dir, "in");
    const out = join(dir, "out");
    const names = Array.from({ length: 24 }, (_, i) => `p${String(i).padStart(2, "0")}.jpg`);
    await writeImages(input, names);
    await Deno.mkdir(out);
    // A temporary being filled by a live writer (this process holds its lock, as a writer does)
    // and one that a killed writer left (nobody holds its lock).
    const liveTemp = `.x.jpg${TEMP_MARKER}1-00000001`;
    const live = await Deno.open(join(out, liveTemp), { write: true, createNew: true });
    await live.lock(true);
    await live.write(new Uint8Array(10));
    await Deno.writeFile(join(out, `.y.jpg${TEMP_MARKER}2-00000002`), new Uint8Array(10));
    try {
      const half = (pattern: string, mode: string) =>
        startRun([mode, ...["-i", input, "-o", out, "--pattern", pattern, "--size", "8x8", "-q"]])
          .done;
      // Two runs into one folder at once, each on half: whichever ends first sweeps while the
      // other may still be writing (its temporaries were removed under it before).
      const runs = await Promise.all([
        half("*[02468].jpg", "sequential"),
        half("*[13579].jpg", "parallel"),
      ]);
      for (const run of runs) assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(await listTree(out), [liveTemp, ...names].sort());
    } finally {
      live.close();
    }
    // Once its writer is gone, the next run sweeps it.
    const next = await startRun(["sequential", "-i", input, "-o", out, "--size", "8x8", "-q"]).done;
    assert.equal(next.code, 0, next.stderr);
    assert.deepEqual(await temporaries(out), []);
  });
});

/** Private folders of `pid`'s runs in the temporary directory `tmp`. */
async function privateDirsOf(tmp: string, pid: number): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(tmp)))
    .map((entry) => entry.name)
    .filter((name) => name.startsWith(`${PRIVATE_PREFIX}${pid}-`));
}

Deno.test("a SIGKILLed run's ipc folder is removed by the next run; a live run's is kept", async () => {
  await withRunDir(async (dir) => {
    const input = join(dir, "in");
    await writeImages(input, ["a.jpg", "stall.jpg"]);
    // The runs' own temporary directory ($TMPDIR): other runs on the machine sweep dead runs'
    // folders from theirs (/tmp), and could remove the dead one here before the check.
    const tmp = join(dir, "tmp");
    await Deno.mkdir(tmp);
    // Two runs that stay alive: their workers stall on stall.jpg.
    const args = (out: string) => [
      "parallel",
      ...["-w", "1", "-i", input, "-o", join(dir, out), "--size", "8x8", "-q"],
    ];
    // `alive` first, done with its start (its own sweep included) before `doomed` starts, so
    // that `doomed`'s folder is left for the next run to remove.
    const alive = startRun(args("out2"), { faults: "stall:stall.jpg", tmpdir: tmp });
    let doomed = alive;
    try {
      const started = async (run: typeof alive, out: string) => {
        await waitUntil(
          async () => (await privateDirsOf(tmp, run.pid)).length === 1,
          20_000,
          `${out}'s folder`,
        );
        await waitUntil(() => allExist(join(dir, out), ["a.jpg"]), 20_000, `${out}/a.jpg`);
      };
      await started(alive, "out2");
      doomed = startRun(args("out1"), { faults: "stall:stall.jpg", tmpdir: tmp });
      await started(doomed, "out1");
      const [doomedDir] = await privateDirsOf(tmp, doomed.pid);
      const [aliveDir] = await privateDirsOf(tmp, alive.pid);
      assert.equal(
        (await Deno.readTextFile(join(tmp, doomedDir, OWNER_LOCK))).trim(),
        String(doomed.pid),
        "the lock file names its owner",
      );
      Deno.kill(doomed.pid, "SIGKILL");
      await doomed.done;
      await sleep(100);
      assert.deepEqual(await privateDirsOf(tmp, doomed.pid), [doomedDir], "SIGKILL leaves it");

      // Look-alikes that are not a dead run's: no lock file, something else inside, and a
      // folder of another name; and one that is (an unlocked lock, an ipc name).
      const fake = (name: string) => join(tmp, `${PRIVATE_PREFIX}${name}`);
      await Deno.mkdir(fake("1-nolock"));
      await Deno.writeTextFile(join(fake("1-nolock"), "tasks"), "");
      await Deno.mkdir(fake("1-precious"));
      await Deno.writeTextFile(join(fake("1-precious"), OWNER_LOCK), "1\n");
      await Deno.writeTextFile(join(fake("1-precious"), "precious.txt"), "keep me");
      await Deno.mkdir(fake("1-dead"));
      await Deno.writeTextFile(join(fake("1-dead"), OWNER_LOCK), "1\n");
      await Deno.writeTextFile(join(fake("1-dead"), "tasks.pub"), "");
      // One being made: its lock file is there, still empty (its owner locks it, then writes).
      await Deno.mkdir(fake("1-making"));
      await Deno.writeTextFile(join(fake("1-making"), OWNER_LOCK), "");
      // Another user's (root can make one here), and one whose lock is a FIFO.
      await Deno.mkdir(fake("1-otheruser"));
      await Deno.writeTextFile(join(fake("1-otheruser"), OWNER_LOCK), "1\n");
      const chowned = await Deno.chown(fake("1-otheruser"), 65534, 65534).then(
        () => true,
        () => false,
      );
      await Deno.mkdir(fake("1-fifo"));
      await new Deno.Command("mkfifo", { args: [join(fake("1-fifo"), OWNER_LOCK)] }).output();
      const other = join(tmp, "zpix-not-a-run-1");
      await Deno.mkdir(other);
      await Deno.writeTextFile(join(other, OWNER_LOCK), "1\n");
      try {
        await Deno.remove(join(input, "stall.jpg"));
        const next = await startRun([
          "sequential",
          ...["-i", input, "-o", join(dir, "out3"), "--size", "8x8", "-q"],
        ], { tmpdir: tmp }).done;
        assert.equal(next.code, 0, next.stderr);
        // Sequential runs make no ipc folder and remove nothing.
        assert.deepEqual(await privateDirsOf(tmp, doomed.pid), [doomedDir]);

        const run = await startRun(args("out4"), { tmpdir: tmp }).done;
        assert.equal(run.code, 0, run.stderr);
        await waitUntil(
          async () => (await privateDirsOf(tmp, doomed.pid)).length === 0,
          5000,
          "the dead run's folder removed",
        );
        await assert.rejects(Deno.lstat(fake("1-dead")), Deno.errors.NotFound);
        assert.deepEqual(await privateDirsOf(tmp, alive.pid), [aliveDir], "a live run's is kept");
        assert.ok((await Deno.lstat(join(tmp, aliveDir, "tasks"))).isSocket);
        assert.equal(await Deno.readTextFile(join(fake("1-precious"), "precious.txt")), "keep me");
        await Deno.lstat(join(fake("1-nolock"), "tasks"));
        await Deno.lstat(join(other, OWNER_LOCK));
        if (chowned) await Deno.lstat(join(fake("1-otheruser"), OWNER_LOCK));
        await Deno.lstat(join(fake("1-fifo"), OWNER_LOCK));
        await Deno.lstat(join(fake("1-making"), OWNER_LOCK));
        // And from this process: the live run's lock cannot be taken, so nothing goes.
        assert.deepEqual(
          (await removeStaleDirs(tmp)).filter((name) => name.includes(String(alive.pid))),
          [],
        );
      } finally {
        for (
          const path of ["nolock", "precious", "dead", "otheruser", "fifo", "making"].map((n) =>
            fake(`1-${n}`)
          )
            .concat(other)
        ) {
          await Deno.remove(path, { recursive: true }).catch(() => {});
        }
      }
    } finally {
      for (const run of [doomed, alive]) {
        try {
          Deno.kill(run.pid, "SIGKILL");
        } catch {
          // gone
        }
      }
      await Promise.all([doomed.done, alive.done]);
      // the killed runs' folders: removed here, as a next run would
      await removeStaleDirs(tmp);
    }
  });
});

Deno.test("a worker whose CURVE handshake the server refuses says why and exits 2 after 3 s", async () => {
  await withRunDir(async (dir) => {
    await writeImages(join(dir, "in"), ["a.jpg"]);
    const keys = async (name: string) => {
      const made = await spawnZpix(["keygen", join(dir, name)]).output;
      assert.equal(made.code, 0, made.stderr);
      return /public-key = "(.{40})"/.exec(
        await Deno.readTextFile(join(dir, name, "server.pub")),
      )![1];
    };
    await keys("server");
    const wrongKey = await keys("other");
    const serve = (name: string, curve: boolean) =>
      spawnZpix([
        "serve",
        ...["--bind", `ipc://${dir}/${name}`, "--workers", "0", "--token", "t"],
        ...["-i", join(dir, "in"), "-o", join(dir, `out-${name}`)],
        ...(curve ? ["--curve-secret", join(dir, "server", "server.key")] : []),
      ], { flags: SERVE_FLAGS });
    const servers = [serve("curve", true), serve("plain", false)];
    try {
      const cases: [string, string[], RegExp][] = [
        [
          "curve",
          [`--curve-server-key=${wrongKey}`],
          /: the server at ipc:\/\/.*\/curve refused the CURVE handshake: is --curve-server-key the server's public key\?\n/,
        ],
        [
          "curve",
          [],
          /: the server at ipc:\/\/.*\/curve requires CURVE: pass its public key with --curve-server-key\n/,
        ],
        [
          "plain",
          [`--curve-server-key=${wrongKey}`],
          /: the server at ipc:\/\/.*\/plain does not use CURVE: leave out --curve-server-key, or start the server with --curve-secret\n/,
        ],
      ];
      const runs = cases.map(([name, extra]) => {
        const started = performance.now();
        const worker = spawnZpix(
          ["worker", "--connect", `ipc://${dir}/${name}`, "--token", "t", ...extra],
          { flags: WORKER_FLAGS },
        );
        const timer = setTimeout(() => worker.child.kill("SIGKILL"), 30_000);
        return worker.output.then((out) => {
          clearTimeout(timer);
          return { ...out, seconds: (performance.now() - started) / 1000 };
        });
      });
      for (const [i, out] of (await Promise.all(runs)).entries()) {
        assert.equal(out.code, 2, out.stderr);
        assert.match(out.stderr, cases[i][2]);
        assert.ok(out.seconds < 15, `exited after ${out.seconds} s`);
        console.log(
          `${cases[i][0]} ${cases[i][1].length ? "with a key" : "without a key"}: exit 2 after ${
            out.seconds.toFixed(1)
          } s`,
        );
      }
      for (const name of ["curve", "plain"]) {
        assert.deepEqual(await listTree(join(dir, `out-${name}`)), [], "no task, no output");
      }
    } finally {
      for (const server of servers) server.child.kill("SIGTERM");
      await Promise.all(servers.map((server) => server.output));
    }
  });
});

Deno.test("a run that cannot start leaves no ipc folder behind (no --allow-read)", async () => {
  await withRunDir(async (dir) => {
    await writeImages(join(dir, "in"), ["a.jpg"]);
    const probe = await Deno.makeTempDir({ prefix: "zpix-test-probe-" });
    const tmp = dirname(probe);
    await Deno.remove(probe);
    const run = spawnZpix(
      ["parallel", "-w", "1", "-i", join(dir, "in"), "-o", join(dir, "out"), "--size", "8x8"],
      { flags: ZPIX_FLAGS.filter((flag) => flag !== "--allow-read") },
    );
    const out = await run.output;
    // Permissions are checked before the pool makes its folder (cli/permissions.ts): exit 3.
    assert.equal(out.code, 3, out.stderr);
    assert.match(out.stderr, /^zpix: error: missing permission: .*--allow-read=/);
    assert.deepEqual(await privateDirsOf(tmp, run.pid), []);
  });
});

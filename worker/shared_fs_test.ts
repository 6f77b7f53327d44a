/**
 * Tests of a worker's `--shared-fs` folders: which paths a server may name,
 * with real files, folders and symlinks in a temporary folder.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { OutsideSharedFolders, SharedFolders } from "./shared_fs.ts";

Deno.test("shared folders: inputs and outputs inside are resolved; outside, `..`, links out and relative paths are refused", async () => {
  const root = await Deno.makeTempDir({ prefix: "zpix-shared-" });
  try {
    const shared = join(root, "shared"), other = join(root, "other");
    await Deno.mkdir(join(shared, "in"), { recursive: true });
    await Deno.mkdir(other);
    await Deno.writeTextFile(join(shared, "in", "a.jpg"), "a");
    await Deno.writeTextFile(join(other, "b.jpg"), "b");
    await Deno.symlink(other, join(shared, "out-link"));
    await Deno.symlink(join(shared, "in", "a.jpg"), join(shared, "in", "inner-link.jpg"));
    // The folder named through a link of its own: its real path is what paths are checked against.
    await Deno.symlink(shared, join(root, "mount"));
    const folders = new SharedFolders([join(root, "mount")]);
    const mount = join(root, "mount");
    assert.equal(folders.inputPath(join(mount, "in", "a.jpg")), join(shared, "in", "a.jpg"));
    assert.equal(
      folders.inputPath(join(mount, "in", "inner-link.jpg")),
      join(shared, "in", "a.jpg"),
      "a link that stays inside is followed",
    );
    // An output in folders still to be made (--recursive): resolved from the nearest that exists.
    assert.equal(
      folders.outputPath(join(mount, "out", "sub", "c.jpg")),
      join(shared, "out", "sub", "c.jpg"),
    );
    for (
      const [kind, path] of [
        ["input", join(other, "b.jpg")],
        ["input", join(mount, "..", "other", "b.jpg")],
        ["input", join(mount, "out-link", "b.jpg")],
        ["input", "in/a.jpg"],
        ["input", mount + "/in//a.jpg"],
        ["input", mount],
        ["output", join(mount, "out-link", "c.jpg")],
        ["output", join(mount, "out-link", "new", "c.jpg")],
        ["output", join(other, "c.jpg")],
        ["output", join(root, "mount2", "c.jpg")],
      ] as const
    ) {
      assert.throws(
        () => kind === "input" ? folders.inputPath(path) : folders.outputPath(path),
        OutsideSharedFolders,
        `${kind} ${path}`,
      );
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

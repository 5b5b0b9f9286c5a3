import assert from "node:assert/strict";
import {
  denoConnectionDeps,
  fileTokenSource,
  staticTokenSource,
} from "../../src/act/token_source.ts";

/** A token file in memory that counts its reads. */
function fakeFile(initial: string | null) {
  const file = {
    content: initial,
    reads: 0,
    readTextFile: (path: string): Promise<string> => {
      file.reads++;
      if (file.content === null) {
        return Promise.reject(new Deno.errors.NotFound(`No such file: readfile '${path}'`));
      }
      return Promise.resolve(file.content);
    },
  };
  return file;
}

Deno.test("fileTokenSource() caches the token for maxAgeMs, then re-reads it", async () => {
  const file = fakeFile("one\n");
  let nowMs = 1_000;
  const token = fileTokenSource("/sa/token", {
    maxAgeMs: 60_000,
    now: () => nowMs,
    readTextFile: file.readTextFile,
  });
  assert.equal(await token.get(), "one");
  file.content = "two";
  nowMs += 59_999;
  assert.equal(await token.get(), "one");
  assert.equal(file.reads, 1);
  nowMs += 1;
  assert.equal(await token.get(), "two");
  assert.equal(file.reads, 2);
});

Deno.test("fileTokenSource() re-reads after invalidate()", async () => {
  const file = fakeFile("one");
  const token = fileTokenSource("/sa/token", { now: () => 0, readTextFile: file.readTextFile });
  assert.equal(await token.get(), "one");
  file.content = "  two  \n";
  assert.equal(await token.get(), "one");
  token.invalidate();
  assert.equal(await token.get(), "two");
  assert.equal(file.reads, 2);
});

Deno.test("fileTokenSource() shares one read between concurrent callers", async () => {
  const file = fakeFile("one");
  const token = fileTokenSource("/sa/token", {
    readTextFile: file.readTextFile,
    now: () => performance.now(),
  });
  assert.deepEqual(await Promise.all([token.get(), token.get(), token.get()]), [
    "one",
    "one",
    "one",
  ]);
  assert.equal(file.reads, 1);
});

Deno.test("fileTokenSource() rejects a missing or empty file, and recovers", async () => {
  const file = fakeFile(null);
  const token = fileTokenSource("/sa/token", {
    readTextFile: file.readTextFile,
    now: () => performance.now(),
  });
  await assert.rejects(token.get(), {
    message: `Cannot read token file "/sa/token": No such file: readfile '/sa/token'`,
  });
  file.content = " \n";
  await assert.rejects(token.get(), { message: 'Cannot use token file "/sa/token": it is empty' });
  file.content = "back";
  assert.equal(await token.get(), "back");
});

Deno.test("fileTokenSource() reads a real file with denoConnectionDeps (Deno.readTextFile)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/token`, "real-token\n");
    assert.equal(await fileTokenSource(`${dir}/token`, denoConnectionDeps).get(), "real-token");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("staticTokenSource() always gives its token", async () => {
  const token = staticTokenSource("abc");
  assert.equal(await token.get(), "abc");
  token.invalidate();
  assert.equal(await token.get(), "abc");
});

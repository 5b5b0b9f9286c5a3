import assert from "node:assert/strict";
import { formatListenAddress, parseListenAddress } from "../../src/observe/listen_address.ts";

Deno.test("parseListenAddress() reads Go-style host:port addresses", () => {
  const table: [string, { hostname: string; port: number }][] = [
    [":9402", { hostname: "0.0.0.0", port: 9402 }],
    ["0.0.0.0:9402", { hostname: "0.0.0.0", port: 9402 }],
    ["127.0.0.1:0", { hostname: "127.0.0.1", port: 0 }],
    ["[::]:9402", { hostname: "::", port: 9402 }],
    ["[::1]:65535", { hostname: "::1", port: 65535 }],
    ["[fd00::10:2]:9402", { hostname: "fd00::10:2", port: 9402 }],
    ["localhost:9402", { hostname: "localhost", port: 9402 }],
    ["node-a.example.com:80", { hostname: "node-a.example.com", port: 80 }],
  ];
  for (const [text, expected] of table) assert.deepEqual(parseListenAddress(text), expected, text);
});

Deno.test("parseListenAddress() says what is wrong with a bad address", () => {
  const table: [string, RegExp][] = [
    ["9402", /expected host:port/],
    [":", /the port "" is not a number/],
    [":http", /the port "http" is not a number/],
    [":65536", /the port "65536" is not a number from 0 to 65535/],
    [":-1", /the port "-1"/],
    ["::9402", /IPv6 address needs brackets/],
    ["[zz::1]:9402", /"zz::1" is not an IPv6 address/],
    ["256.1.1.1:9402", /"256.1.1.1" is not an IPv4 address/],
    ["bad_host:9402", /"bad_host" is not a host name/],
  ];
  for (const [text, pattern] of table) {
    const result = parseListenAddress(text);
    assert.ok("error" in result, text);
    assert.match(result.error, pattern, text);
  }
});

Deno.test("formatListenAddress() brackets IPv6", () => {
  assert.equal(formatListenAddress({ hostname: "::", port: 9402 }), "[::]:9402");
  assert.equal(formatListenAddress({ hostname: "127.0.0.1", port: 1 }), "127.0.0.1:1");
});

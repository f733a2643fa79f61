// The hand-written declarations (src/authgate-client.d.ts) name what the module exports: the
// same classes, and every public method and property of AuthClient, neither more nor less.
// The package is imported by its own name, through package.json's "exports".

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import * as client from "@authgate/client";

const declarations = readFileSync(new URL("../src/authgate-client.d.ts", import.meta.url), "utf8");

function declaredClass(name) {
  const start = declarations.indexOf(`export class ${name} `);
  assert.notEqual(start, -1, `the declarations have no class ${name}`);
  const end = declarations.indexOf("\n}\n", start);
  return declarations.slice(start, end);
}

test("the declarations export the module's classes", () => {
  const declared = [...declarations.matchAll(/^export class (\w+)/gm)].map((m) => m[1]).sort();
  assert.deepEqual(declared, Object.keys(client).sort());
});

test("every public member of AuthClient is declared, and nothing else", () => {
  const { AuthClient } = client;
  const members = [
    ...Object.getOwnPropertyNames(AuthClient.prototype).filter((name) => name !== "constructor"),
    ...Object.getOwnPropertyNames(AuthClient).filter(
      (name) => !["length", "name", "prototype"].includes(name),
    ),
  ].sort();
  const body = declaredClass("AuthClient");
  const declared = [
    ...new Set(
      [...body.matchAll(/^ {2}(?:static )?(?:readonly )?(\w+)(?:<[^>]*>)?[(:]/gm)]
        .map((m) => m[1])
        .filter((name) => name !== "constructor" && name !== "addEventListener"),
    ),
  ].sort();
  assert.deepEqual(declared, members);
});

test("the errors carry what their declarations say", () => {
  const { AuthError, MfaRequired } = client;
  const error = new MfaRequired(401, { code: "mfa_required", mfa_token: "t", methods: ["totp"] });
  assert.ok(error instanceof AuthError);
  assert.deepEqual(
    [error.status, error.code, error.mfaToken, error.methods],
    [401, "mfa_required", "t", ["totp"]],
  );
  for (const field of ["status", "code", "errors", "problem"]) {
    assert.match(declaredClass("AuthError"), new RegExp(`readonly ${field}:`));
  }
  for (const field of ["mfaToken", "methods"]) {
    assert.match(declaredClass("MfaRequired"), new RegExp(`readonly ${field}:`));
  }
});

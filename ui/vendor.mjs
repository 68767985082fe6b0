// Copies the YASGUI build from node_modules into statecraft/ui/static/vendor/yasgui/ and writes the
// licence notices of every package bundled in it. Run `npm ci && npm run vendor` in ui/ (see the README there).
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const build = join(here, "node_modules", "@zazuko", "yasgui", "build");
const target = join(here, "..", "statecraft", "ui", "static", "vendor", "yasgui");
mkdirSync(target, { recursive: true });
const yasgui = JSON.parse(readFileSync(join(here, "node_modules", "@zazuko", "yasgui", "package.json"), "utf8"));

const files = ["yasgui.min.js", "yasgui.min.css"];
for (const file of files) copyFileSync(join(build, file), join(target, file));

// The package declares "license": "MIT" but ships no licence file: write the MIT text with its authors.
writeFileSync(join(target, "LICENSE.txt"), `@zazuko/yasgui ${yasgui.version} (and @zazuko/yasqe, @zazuko/yasr, @zazuko/yasgui-utils)
${yasgui.homepage}

The npm package declares the MIT licence ("license": "MIT" in its package.json) and ships no licence
file; its README says: "This is a fork from Zazuko from software written by Triply. This code is
released under the MIT license." The MIT licence, with the authors the package names:

MIT License

Copyright (c) Triply B.V. <info@triply.cc>
Copyright (c) Zazuko GmbH

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.

The minified bundle also contains the third-party packages listed, with their licences, in
THIRD-PARTY-NOTICES.txt beside this file.
`);

// Every package in the production dependency tree of @zazuko/yasgui, with its licence text.
const tree = JSON.parse(execFileSync("npm", ["ls", "--all", "--omit=dev", "--json", "--long"], { cwd: here, encoding: "utf8" }));
const seen = new Map();
(function walk(deps) {
  for (const [name, info] of Object.entries(deps || {})) {
    if (info.path && !seen.has(`${name}@${info.version}`)) seen.set(`${name}@${info.version}`, info);
    walk(info.dependencies);
  }
})(tree.dependencies);
const notices = [];
for (const [id, info] of [...seen.entries()].sort()) {
  if (id.startsWith("@zazuko/") || id.startsWith("@types/")) continue;
  const pkg = JSON.parse(readFileSync(join(info.path, "package.json"), "utf8"));
  const licence = typeof pkg.license === "string" ? pkg.license : JSON.stringify(pkg.license || pkg.licenses || "unstated");
  const licenceFile = readdirSync(info.path).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f));
  const text = licenceFile ? readFileSync(join(info.path, licenceFile), "utf8").trim() : `(no licence file in the package; it declares: ${licence})`;
  notices.push(`${"=".repeat(78)}\n${id} — ${licence}\n${pkg.homepage || ""}\n${"-".repeat(78)}\n${text}\n`);
}
writeFileSync(join(target, "THIRD-PARTY-NOTICES.txt"),
  `Third-party packages in the dependency tree of @zazuko/yasgui ${yasgui.version}, bundled into yasgui.min.js\n` +
  `(the bundle strips their licence comments, so their notices are kept here).\n\n` + notices.join("\n"));

for (const file of files) {
  const data = readFileSync(join(target, file));
  console.log(`${file}\t${data.length} bytes\tsha256 ${createHash("sha256").update(data).digest("hex")}`);
}
console.log(`@zazuko/yasgui ${yasgui.version} -> ${target}`);

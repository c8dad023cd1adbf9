// Browser test of the Microscope with real headless Chromium (playwright-core, no
// bundled browser: /usr/bin/chromium). Builds a small MobileNetV2 site (few steps; its
// dataset examples and attributions come from a real scan of 3 sample photos), serves it
// with `featvis microscope serve`, then opens the overview, a layer, a unit, uses the keys
// and the jump box, and checks that every image loads and nothing logs an error.
// Usage: node browser_test.js --featvis BIN --out SCREENSHOT_DIR --work DIR
//        node browser_test.js --featvis BIN --out DIR --site SITE --layers L1,L2,...
//          (the same checks and screenshots on an existing site; L1 must be
//           MobileNetV2/expanded_conv_2/expand, L2 the next layer built)
// Exit 0 = pass, 1 = fail, 77 = skipped (the real model or photos are absent).
"use strict";
const fs = require("fs");
const path = require("path");
const { spawn, spawnSync } = require("child_process");

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const featvis = arg("--featvis", "build/featvis");
const shots = path.resolve(arg("--out", "build/browser-screenshots"));
const work = path.resolve(arg("--work", "build/browser-site"));
const chromium = arg("--chromium", "/usr/bin/chromium");
const repo = path.resolve(__dirname, "..", "..");

function fail(message) {
  console.error("browser test: FAIL: " + message);
  process.exit(1);
}

let playwright;
try {
  playwright = require("playwright-core");
} catch (e) {
  fail("playwright-core is not installed; run `npm ci --ignore-scripts` in tests/browser (scripts/setup.sh does)");
}
if (!fs.existsSync(chromium)) fail(chromium + " is missing; install Debian's chromium (scripts/setup.sh does)");

const images = process.env.FEATVIS_IMAGES || path.join(repo, "..", "shared", "images", "imagenet-samples");
const models = spawnSync(featvis, ["models", "--json"], { encoding: "utf8" });
if (models.status !== 0) fail("featvis models failed: " + models.stderr);
const v2 = JSON.parse(models.stdout).models.find((m) => m.name === "mobilenet_v2");
if (!v2 || v2.status !== "found" || !fs.existsSync(images)) {
  console.log("browser test: SKIPPED: real MobileNetV2 or sample photos not found in ../shared");
  process.exit(77);
}

const LAYERS = arg("--layers", "MobileNetV2/expanded_conv_2/expand,MobileNetV2/Conv2d_18_1").split(",");
const slug = (s) => s.replace(/[^A-Za-z0-9_.-]/g, "_");
fs.mkdirSync(shots, { recursive: true });
let site = arg("--site", null);
if (!site) {
  // 3 sample photos, scanned by the build itself (--images) for examples and attribution.
  fs.rmSync(work, { recursive: true, force: true });
  const photoDir = path.join(work, "photos");
  fs.mkdirSync(photoDir, { recursive: true });
  for (const f of fs.readdirSync(images).filter((f) => /\.jpe?g$/i.test(f)).sort().slice(0, 3))
    fs.symlinkSync(path.join(images, f), path.join(photoDir, f));
  site = path.join(work, "site");
  const build = spawnSync(featvis, ["microscope", "build", "mobilenet_v2", "--layers", LAYERS.join(","), "--units", "3",
    "--steps", "2", "--size", "64", "--batch", "3", "--diversity", "2", "--threads", "2", "-q",
    "--images", photoDir, "--out", site], { encoding: "utf8" });
  if (build.status !== 0) fail("microscope build failed: " + build.stderr);
}

async function main() {
  const server = spawn(featvis, ["microscope", "serve", site, "--port", "0"], { stdio: ["ignore", "pipe", "pipe"] });
  const base = await new Promise((resolve, reject) => {
    let out = "";
    server.stdout.on("data", (d) => {
      out += d;
      const m = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m) resolve(m[1]);
    });
    server.on("exit", (code) => reject(new Error("server exited with " + code)));
    setTimeout(() => reject(new Error("server did not start")), 20000);
  });
  const browser = await playwright.chromium.launch({ executablePath: chromium, args: ["--no-sandbox"] });
  const problems = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on("console", (m) => { if (m.type() === "error") problems.push("console: " + m.text()); });
    page.on("pageerror", (e) => problems.push("page error: " + e.message));
    page.on("requestfailed", (r) => problems.push("request failed: " + r.url()));
    page.on("response", (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });

    const imagesLoaded = async (what, atLeast) => {
      await page.waitForLoadState("load");
      const bad = await page.evaluate(() =>
        Array.from(document.images).filter((i) => !(i.complete && i.naturalWidth > 0)).map((i) => i.src));
      const count = await page.evaluate(() => document.images.length);
      if (bad.length) fail(`${what}: images did not load: ${bad.join(", ")}`);
      if (count < atLeast) fail(`${what}: ${count} images, expected at least ${atLeast}`);
      console.log(`browser test: ${what}: ${count} images loaded (${page.url()})`);
    };
    const expectUrl = (suffix, what) => {
      if (!page.url().endsWith(suffix)) fail(`${what}: at ${page.url()}, expected ...${suffix}`);
    };

    await page.goto(base);
    await page.click("a[href='mobilenet_v2/']");
    await imagesLoaded("overview", 6);
    await page.screenshot({ path: path.join(shots, "overview.png") });

    await page.click(`h2 a[href='${slug(LAYERS[0])}/']`);
    await imagesLoaded("layer", 3 + 1 + 4);  // units, dream, 2 x (photo, caricature)
    await page.screenshot({ path: path.join(shots, "layer.png") });

    await page.click(".grid a.cell >> nth=0");
    await imagesLoaded("unit", 1 + 3 + 1 + 2 + 1);  // channel, examples, neuron, diversity, attribution
    if (!(await page.$("img[alt='attribution']"))) fail("unit page: no attribution image");
    expectUrl(`/${slug(LAYERS[0])}/0/`, "unit link");
    await page.screenshot({ path: path.join(shots, "unit.png"), fullPage: true });

    await Promise.all([page.waitForNavigation(), page.keyboard.press("ArrowRight")]);
    expectUrl(`/${slug(LAYERS[0])}/1/`, "ArrowRight");
    await Promise.all([page.waitForNavigation(), page.keyboard.press("]")]);
    expectUrl(`/${slug(LAYERS[1])}/1/`, "] (next layer)");

    await page.keyboard.press("/");
    await page.keyboard.type("expanded_conv_2/expand:2");
    await Promise.all([page.waitForNavigation(), page.keyboard.press("Enter")]);
    expectUrl(`/${slug(LAYERS[0])}/2/`, "jump box");
    await imagesLoaded("unit after jump", 6);

    await page.fill("#jump-input", "no_such_layer:1");
    await page.press("#jump-input", "Enter");
    const error = await page.textContent("#jump-error");
    if (!/no single layer/.test(error)) fail("jump box: no error shown for an unknown layer");
    await page.fill("#jump-input", "Conv2d_18_1:99");
    await page.press("#jump-input", "Enter");
    if (!/not in this site/.test(await page.textContent("#jump-error"))) fail("jump box: no error for a unit not built");
    expectUrl(`/${slug(LAYERS[0])}/2/`, "jump box error stays");

    const api = await page.evaluate(async (u) => (await fetch(u)).json(), `${base}api/unit/mobilenet_v2/${slug(LAYERS[0])}/2`);
    if (api.unit !== 2 || !api.lenses.channel) fail("API /api/unit did not return unit 2");
  } finally {
    await browser.close();
    server.kill();
  }
  if (problems.length) fail("errors in the browser:\n  " + problems.join("\n  "));
  console.log("browser test: PASS; screenshots in " + shots);
}

main().catch((e) => fail(e.stack || String(e)));

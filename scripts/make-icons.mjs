#!/usr/bin/env node
// Renders the app icons (public/icons/*.png) from one SVG with the system Chromium. Run after changing
// the artwork: `node scripts/make-icons.mjs`. The PNGs are committed.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { chromium } from "@playwright/test";

const out = path.resolve(import.meta.dirname, "../public/icons");
const check = `<path d="M30 52 L44 66 L72 36" fill="none" stroke="COLOR" stroke-width="10" stroke-linecap="round" stroke-linejoin="round"/>`;
const icons = [
  // Regular icon: rounded tile with transparent corners.
  {
    name: "icon-192.png",
    size: 192,
    svg: `<rect x="4" y="4" width="92" height="92" rx="22" fill="#1f4f8b"/>${check.replace("COLOR", "#fff")}`,
  },
  {
    name: "icon-512.png",
    size: 512,
    svg: `<rect x="4" y="4" width="92" height="92" rx="22" fill="#1f4f8b"/>${check.replace("COLOR", "#fff")}`,
  },
  {
    name: "apple-touch-icon.png",
    size: 180,
    svg: `<rect width="100" height="100" fill="#1f4f8b"/>${check.replace("COLOR", "#fff")}`,
  },
  // Maskable: full bleed, artwork inside the 80 % safe zone.
  {
    name: "icon-maskable-512.png",
    size: 512,
    svg: `<rect width="100" height="100" fill="#1f4f8b"/><g transform="translate(15 15) scale(0.7)">${check.replace("COLOR", "#fff")}</g>`,
  },
  // Badge: white silhouette on transparent, as Android expects.
  {
    name: "badge-72.png",
    size: 72,
    svg: `${check.replace("COLOR", "#fff").replace('stroke-width="10"', 'stroke-width="14"')}`,
  },
];

const browser = await chromium.launch({
  executablePath: process.env.PLAYWRIGHT_CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
});
const page = await browser.newPage();
for (const icon of icons) {
  await page.setViewportSize({ width: icon.size, height: icon.size });
  await page.setContent(
    `<html><body style="margin:0;background:transparent"><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100" width="${icon.size}" height="${icon.size}">${icon.svg}</svg></body></html>`,
  );
  writeFileSync(path.join(out, icon.name), await page.screenshot({ omitBackground: true }));
  console.log(`public/icons/${icon.name}`);
}
await browser.close();

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';

/*
 * SVG → PNG with resvg (a Rust renderer; @resvg/resvg-js ships it prebuilt per
 * platform as optional npm packages, so it installs offline with no script).
 * The fonts come from the dejavu-fonts-ttf package rather than the system:
 * the Docker image has none, and the same fonts everywhere give the same
 * picture in tests, in CI and in production.
 */
const fontDir = join(dirname(createRequire(import.meta.url).resolve('dejavu-fonts-ttf/package.json')), 'ttf');
const FONT_FILES = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'].map((f) => join(fontDir, f));

/** Renders an SVG to PNG at `scale` (2 gives a sharp picture on high-density screens). */
export function renderPng(svg: string, scale = 1): Buffer {
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    background: '#ffffff',
    font: { loadSystemFonts: false, fontFiles: FONT_FILES, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
  });
  return resvg.render().asPng();
}

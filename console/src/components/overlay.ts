// Lines drawn over a standard photo: the spec's bands, and where the report found the eyes,
// the face and the top of the head. An absolutely positioned SVG in the photo's own pixels.
import { html } from '../html';
import { t } from '../i18n';
import { Geometry, Marks } from './geometry';

export function Overlay({ g, marks, labels = true, scale = 1 }: { g: Geometry; marks?: Marks; labels?: boolean; scale?: number }) {
  const { width: w, height: h } = g;
  const fs = Math.max(8, (w / 34) * scale);
  const cx = w / 2;
  const text = (x: number, y: number, s: string, cls: string, anchor = 'start') =>
    labels ? html`<text x=${x} y=${y} class=${cls} font-size=${fs} text-anchor=${anchor}>${s}</text>` : null;
  return html`<svg class="overlay" viewBox="0 0 ${w} ${h}" preserveAspectRatio="none" aria-hidden="true" data-testid="overlay">
    ${g.hairline
      ? html`<g class="ov-hair">
          <rect x="0" y=${g.hairline.min} width=${w} height=${g.hairline.max - g.hairline.min} />
          ${text(4, g.hairline.min - 3, `${t('overlay.hairline')} ${g.hairline.min}–${g.hairline.max}`, 'ov-label ov-label-hair')}
        </g>`
      : null}
    ${g.eyes
      ? html`<g class="ov-eyes">
          <rect x="0" y=${g.eyes.min} width=${w} height=${g.eyes.max - g.eyes.min} />
          ${text(4, g.eyes.max + fs, `${t('overlay.eyes_band')} ${g.eyes.min}–${g.eyes.max}`, 'ov-label ov-label-eyes')}
        </g>`
      : null}
    ${g.faceWidth
      ? html`<g class="ov-facew">
          <line x1=${cx - g.faceWidth.min / 2} x2=${cx - g.faceWidth.min / 2} y1="0" y2=${h} />
          <line x1=${cx + g.faceWidth.min / 2} x2=${cx + g.faceWidth.min / 2} y1="0" y2=${h} />
          <line class="outer" x1=${cx - g.faceWidth.max / 2} x2=${cx - g.faceWidth.max / 2} y1="0" y2=${h} />
          <line class="outer" x1=${cx + g.faceWidth.max / 2} x2=${cx + g.faceWidth.max / 2} y1="0" y2=${h} />
          ${text(w - 4, h - 6, `${t('overlay.face_width')} ${g.faceWidth.min}–${g.faceWidth.max}`, 'ov-label ov-label-face', 'end')}
        </g>`
      : null}
    <line class="ov-centre" x1=${cx} x2=${cx} y1="0" y2=${h} />
    ${marks?.headTop !== undefined
      ? html`<g class="ov-headtop">
          <line x1="0" x2=${w} y1=${marks.headTop} y2=${marks.headTop} />
          ${text(w - 4, marks.headTop - 3, `${t('overlay.head_top')} ${Math.round(marks.headTop)}`, 'ov-label ov-label-top', 'end')}
        </g>`
      : null}
    ${marks?.eyeLine !== undefined
      ? html`<g class="ov-eyeline">
          <line x1="0" x2=${w} y1=${marks.eyeLine} y2=${marks.eyeLine} />
          ${text(w - 4, marks.eyeLine - 3, `${t('overlay.eye_line')} ${Math.round(marks.eyeLine)}`, 'ov-label ov-label-eye', 'end')}
        </g>`
      : null}
    ${marks?.faceBox
      ? html`<polygon class="ov-face" points=${marks.faceBox.map((p) => `${p.x},${p.y}`).join(' ')} />`
      : null}
    ${marks?.eyes?.map((p) => html`<circle class="ov-eye" cx=${p.x} cy=${p.y} r=${Math.max(2, w / 120)} />`)}
  </svg>`;
}

/** The frame a preset asks for, on its own background: what a school admin chooses. */
export function FramePreview({ g }: { g: Geometry }) {
  const bg = g.background ? `rgb(${g.background.join(',')})` : '#fff';
  const cx = g.width / 2;
  const eye = g.eyes ? (g.eyes.min + g.eyes.max) / 2 : g.height * 0.4;
  const top = g.hairline ? (g.hairline.min + g.hairline.max) / 2 : g.height * 0.12;
  const fw = g.faceWidth ? (g.faceWidth.min + g.faceWidth.max) / 2 : g.width * 0.5;
  // A schematic head and shoulders placed by the spec's bands (not a measurement).
  const rx = (fw / 2) * 1.02;
  const ry = Math.max(10, (eye - top) * 1.15);
  const cy = top + ry;
  const chin = cy + ry;
  const neck = rx * 0.42;
  const body = `M ${cx - g.width * 0.47} ${g.height} Q ${cx - g.width * 0.45} ${chin + ry * 0.3} ${cx - neck} ${chin + ry * 0.12} L ${cx + neck} ${chin + ry * 0.12} Q ${cx + g.width * 0.45} ${chin + ry * 0.3} ${cx + g.width * 0.47} ${g.height} Z`;
  return html`<div class="frame-preview" data-testid="frame-preview">
    <div class="frame-preview-box" style=${{ aspectRatio: `${g.width} / ${g.height}`, background: bg }}>
      <svg class="overlay" viewBox="0 0 ${g.width} ${g.height}" preserveAspectRatio="none">
        <path class="ov-silhouette" d=${body} />
        <rect class="ov-silhouette" x=${cx - neck * 0.8} y=${chin - ry * 0.2} width=${neck * 1.6} height=${ry * 0.4} />
        <ellipse class="ov-silhouette" cx=${cx} cy=${cy} rx=${rx} ry=${ry} />
      </svg>
      <${Overlay} g=${g} scale=${1.5} />
    </div>
    <div class="muted small">${g.width} × ${g.height} px</div>
  </div>`;
}

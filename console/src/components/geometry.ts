// Reading a photo spec's geometry and a standardization report for drawing. Shapes only: the
// checks themselves are decided by the API.

export interface Band {
  min: number;
  max: number;
}
export interface Geometry {
  width: number;
  height: number;
  background?: [number, number, number];
  hairline?: Band;
  eyes?: Band;
  faceWidth?: Band;
}

function band(v: any): Band | undefined {
  if (v && typeof v.min === 'number' && typeof v.max === 'number') return { min: v.min, max: v.max };
  if (Array.isArray(v) && v.length === 2) return { min: v[0], max: v[1] };
  return undefined;
}

function rgb(v: any): [number, number, number] | undefined {
  if (Array.isArray(v) && v.length === 3) return [v[0], v[1], v[2]];
  if (v && typeof v.r === 'number') return [v.r, v.g, v.b];
  return undefined;
}

/** A campaign/preset spec (`width_px`, `hairline_from_top`…) or a task's `spec.geometry`. */
export function geometryOf(spec: any, fallback?: { width?: number; height?: number }): Geometry {
  const g = spec?.geometry ?? spec ?? {};
  return {
    width: spec?.width ?? spec?.width_px ?? g.width_px ?? fallback?.width ?? 480,
    height: spec?.height ?? spec?.height_px ?? g.height_px ?? fallback?.height ?? 640,
    background: rgb(spec?.background ?? g.background),
    hairline: band(g.hairline_from_top ?? g.hairline ?? g.head_top),
    eyes: band(g.eyes_from_top ?? g.eyes ?? g.eye_line),
    faceWidth: band(g.face_width),
  };
}

export interface Pt {
  x: number;
  y: number;
}

/** What the report measured, in the standard photo's pixels. */
export interface Marks {
  eyeLine?: number;
  eyeMid?: Pt;
  headTop?: number;
  faceBox?: Pt[];
  eyes?: Pt[];
}

/**
 * The report's face (detected in the original) mapped into the standard photo: the frame puts
 * the eye midpoint at `frame.eye_out`, turned by `frame.roll_deg`, scaled so the face is
 * `measurements.face_width_px` wide.
 */
export function marksOf(report: any): Marks {
  const m = report?.measurements ?? {};
  const frame = report?.frame;
  const out: Marks = {};
  if (typeof frame?.eye_out?.y === 'number') out.eyeLine = frame.eye_out.y;
  else if (typeof m.eyes_from_top_px === 'number') out.eyeLine = m.eyes_from_top_px;
  if (typeof m.head_top_px === 'number') out.headTop = m.head_top_px;
  const face = report?.faces?.[0];
  if (face && frame?.eye_out && typeof m.face_width_px === 'number' && face.landmarks?.length >= 2) {
    const [l, r] = face.landmarks;
    const mid = { x: (l.x + r.x) / 2, y: (l.y + r.y) / 2 };
    const scale = m.face_width_px / Math.max(1, face.x1 - face.x0);
    const a = ((frame.roll_deg ?? 0) * Math.PI) / 180;
    const [s, c] = [Math.sin(a), Math.cos(a)];
    const map = (p: Pt): Pt => {
      const dx = p.x - mid.x;
      const dy = p.y - mid.y;
      return { x: frame.eye_out.x + (c * dx + s * dy) * scale, y: frame.eye_out.y + (-s * dx + c * dy) * scale };
    };
    out.eyeMid = { x: frame.eye_out.x, y: frame.eye_out.y };
    out.faceBox = [
      { x: face.x0, y: face.y0 },
      { x: face.x1, y: face.y0 },
      { x: face.x1, y: face.y1 },
      { x: face.x0, y: face.y1 },
    ].map(map);
    out.eyes = [map(l), map(r)];
  }
  return out;
}

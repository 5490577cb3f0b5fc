import { type Dataset, IMAGE_SIDE, PIXELS } from './data.js';

/**
 * Rotate every image of `data` by `degrees` (counter-clockwise) about the
 * image centre with bilinear interpolation; pixels that come from outside
 * the image are 0 (background). Runs once per angle, on the CPU, so the
 * training loop only reads precomputed images.
 */
export function rotateDataset(data: Dataset, degrees: number): Dataset {
  if (degrees % 360 === 0) return data;
  const images = new Float32Array(data.images.length);
  const map = rotationMap(degrees);
  for (let n = 0; n < data.size; n++) {
    applyMap(
      map,
      data.images.subarray(n * PIXELS, (n + 1) * PIXELS),
      images.subarray(n * PIXELS, (n + 1) * PIXELS),
    );
  }
  return { images, labels: data.labels, size: data.size };
}

/** Per output pixel: the four source indices (-1 when outside) and their weights. */
interface RotationMap {
  readonly source: Int32Array;
  readonly weight: Float32Array;
}

function rotationMap(degrees: number): RotationMap {
  const source = new Int32Array(PIXELS * 4).fill(-1);
  const weight = new Float32Array(PIXELS * 4);
  const theta = (degrees * Math.PI) / 180;
  const cos = Math.cos(theta);
  const sin = Math.sin(theta);
  const c = (IMAGE_SIDE - 1) / 2;
  for (let y = 0; y < IMAGE_SIDE; y++) {
    for (let x = 0; x < IMAGE_SIDE; x++) {
      // Inverse map: which source point lands on (x, y). Image rows grow
      // downwards, so a counter-clockwise turn on screen uses -theta here.
      const dx = x - c;
      const dy = y - c;
      const sx = cos * dx - sin * dy + c;
      const sy = sin * dx + cos * dy + c;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      const corners: [number, number, number][] = [
        [x0, y0, (1 - fx) * (1 - fy)],
        [x0 + 1, y0, fx * (1 - fy)],
        [x0, y0 + 1, (1 - fx) * fy],
        [x0 + 1, y0 + 1, fx * fy],
      ];
      const out = (y * IMAGE_SIDE + x) * 4;
      corners.forEach(([cx, cy, w], k) => {
        if (cx >= 0 && cx < IMAGE_SIDE && cy >= 0 && cy < IMAGE_SIDE) {
          source[out + k] = cy * IMAGE_SIDE + cx;
          weight[out + k] = w;
        }
      });
    }
  }
  return { source, weight };
}

function applyMap(map: RotationMap, from: Float32Array, to: Float32Array): void {
  for (let p = 0; p < PIXELS; p++) {
    let v = 0;
    for (let k = 0; k < 4; k++) {
      const s = map.source[p * 4 + k] as number;
      if (s >= 0) v += (map.weight[p * 4 + k] as number) * (from[s] as number);
    }
    to[p] = v;
  }
}

import { describe, expect, it } from 'vitest';
import { type Dataset, IMAGE_SIDE, PIXELS } from './data.js';
import { rotateDataset } from './rotate.js';

function dataset(images: Float32Array): Dataset {
  return { images, labels: new Uint8Array(images.length / PIXELS), size: images.length / PIXELS };
}

describe('rotateDataset', () => {
  const image = new Float32Array(PIXELS).map((_, i) => ((i * 37) % 101) / 100);
  const data = dataset(image);

  it('leaves the images alone at 0° and 360°', () => {
    expect(rotateDataset(data, 0)).toBe(data);
    expect(rotateDataset(data, 360)).toBe(data);
  });

  it('turns a 180° rotation into reversing the pixel order', () => {
    const turned = rotateDataset(data, 180).images;
    const reversed = Array.from(image).reverse();
    turned.forEach((v, i) => {
      expect(v).toBeCloseTo(reversed[i] as number, 5);
    });
  });

  it('rotates a quarter turn counter-clockwise on screen, and four make a full turn', () => {
    const dot = new Float32Array(PIXELS);
    dot[2 * IMAGE_SIDE + 20] = 1; // row 2, column 20: top right
    const turned = rotateDataset(dataset(dot), 90).images;
    // Counter-clockwise: top right goes to top left (row 27 - 20 = 7, column 2).
    expect(turned[7 * IMAGE_SIDE + 2]).toBeCloseTo(1, 5);
    let back = dataset(image);
    for (let i = 0; i < 4; i++) back = rotateDataset(back, 90);
    back.images.forEach((v, i) => {
      expect(v).toBeCloseTo(image[i] as number, 4);
    });
  });

  it('interpolates at other angles and keeps a centred blob inside the frame', () => {
    const blob = new Float32Array(PIXELS);
    for (let y = 10; y < 18; y++) for (let x = 12; x < 16; x++) blob[y * IMAGE_SIDE + x] = 1;
    const turned = rotateDataset(dataset(blob), 60).images;
    const mass = (a: Float32Array) => a.reduce((s, v) => s + v, 0);
    expect(mass(turned)).toBeCloseTo(mass(blob), 0);
    expect(turned.some((v) => v > 0 && v < 1)).toBe(true);
  });
});

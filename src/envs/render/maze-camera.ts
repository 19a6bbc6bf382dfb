/**
 * The top-down camera of image-maze: 64×64 rgb8 over the whole arena (reference §1.4 renders
 * 64×64 from a camera above the maze), drawn from mazeGeometry so the picture cannot disagree
 * with C(s).
 */
import { mazeGeometry as G } from '../maze/geometry.js';
import type { Camera } from './camera.js';
import { Raster, View, type Rgb } from './raster.js';

export const MAZE_CAMERA_SIZE = 64;

const FLOOR: Rgb = [222, 222, 214];
const WALL: Rgb = [40, 40, 48];
const GOAL: Rgb = [60, 170, 80];
const TOOL: Rgb = [210, 40, 40];

const h = G.arenaHalfWidth;
const view = new View(MAZE_CAMERA_SIZE, MAZE_CAMERA_SIZE, [-h, h], [-h, h]);

export const mazeCamera: Camera = {
  width: MAZE_CAMERA_SIZE,
  height: MAZE_CAMERA_SIZE,
  encoding: 'rgb8',
  description: 'top-down view of the whole maze arena (±0.3 m), walls dark, goal green, tool red',
  render(obs, out) {
    const r = new Raster(MAZE_CAMERA_SIZE, MAZE_CAMERA_SIZE, out).clear(FLOOR);
    // Walls are 0.01 m thick, under one pixel (0.0094 m): draw them at least a pixel wide.
    const minHalf = 0.5 / view.length(1);
    for (const w of G.walls) {
      const cx = (w.x[0] + w.x[1]) / 2;
      const half = Math.max((w.x[1] - w.x[0]) / 2, minHalf);
      r.fillRect(view, [cx - half, cx + half], w.y, WALL);
    }
    r.fillCircle(view, G.goal[0], G.goal[1], G.goalThreshold, GOAL);
    r.fillCircle(view, obs[0] ?? 0, obs[1] ?? 0, G.toolRadius, TOOL);
  },
};

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeImage, type RgbImage } from '../../image/image.js';
import { attackBurst, liveBurst, type BurstAttackType } from './proxies.js';

/**
 * The door scenario of issue 13, written as files from the ORL dataset (into a temporary folder, never the
 * repository): an enrolled person's gallery, and camera streams for a stand-in rpicam-vid
 * (test/fixtures/fake-rpicam-vid streams a folder of JPEGs in a loop, FAKE_CAMERA_FRAMES):
 *   live         the person's own captures 1-5 of ORL (pose and expression change), in a loop
 *   still-print  a print of capture 1 held still (only sensor noise changes)
 *   moved-print  that print moved by hand: roll, tilt, drift, distance, JPEG 70-90
 * The gallery holds captures 6-10, so no attack frame and no live frame is an enrolment image.
 */

export const SCENARIO_STREAMS = ['live', 'still-print', 'moved-print'] as const;
export type ScenarioStream = (typeof SCENARIO_STREAMS)[number];

export interface DoorScenario {
  gallery: string;
  streams: Record<ScenarioStream, string>;
}

async function orlCaptures(orlDir: string, subject: string, numbers: number[]): Promise<RgbImage[]> {
  return Promise.all(numbers.map(async (n) => decodeImage(await readFile(join(orlDir, subject, `${n}.pgm`)))));
}

async function writeFrames(dir: string, frames: Buffer[]): Promise<string> {
  await mkdir(dir, { recursive: true });
  await Promise.all(frames.map((frame, i) => writeFile(join(dir, `${String(i).padStart(3, '0')}.jpg`), frame)));
  return dir;
}

/**
 * @param people enrolled subjects (ORL folder names); the first is the one at the door.
 * @param streamFrames frames per attack stream (the camera loops over them).
 */
export async function writeDoorScenario(orlDir: string, outDir: string, people: string[], seed = 1, streamFrames = 30): Promise<DoorScenario> {
  const gallery = join(outDir, 'gallery');
  for (const person of people) {
    await mkdir(join(gallery, person), { recursive: true });
    for (const n of [6, 7, 8, 9, 10]) await writeFile(join(gallery, person, `${n}.pgm`), await readFile(join(orlDir, person, `${n}.pgm`)));
  }
  const subject = people[0]!;
  const [photo] = await orlCaptures(orlDir, subject, [1]);
  const attack = async (type: BurstAttackType) => writeFrames(join(outDir, 'streams', type), await attackBurst(photo!, type, streamFrames, seed));
  return {
    gallery,
    streams: {
      live: await writeFrames(join(outDir, 'streams', 'live'), await liveBurst(await orlCaptures(orlDir, subject, [1, 2, 3, 4, 5]), seed)),
      'still-print': await attack('still-print'),
      'moved-print': await attack('moved-print'),
    },
  };
}

import { faceApiTowerKind } from './faceapi-tower.js';
import { onnxTowerKind } from './onnx-tower.js';
import { seedTowerKind, type TowerKind } from './towers.js';

/**
 * Every embedding tower, by the key model metadata (`tower`) and `facegate train --tower` use. Metadata
 * validation and the CLI help come from here: adding a tower is its own file plus one line below.
 */
export const TOWERS = {
  seed: seedTowerKind('seed', "faithful to the seed (MaxPooling2D(64) pools), trained end to end"),
  'seed-pool2': seedTowerKind('seed-pool2', 'the seed with the intended 2x2 pools, trained end to end'),
  'faceapi-resnet128': faceApiTowerKind,
  'onnx-arcface512': onnxTowerKind,
} satisfies Record<string, TowerKind>;

export type TowerId = keyof typeof TOWERS;
export const TOWER_IDS = Object.keys(TOWERS) as TowerId[];

/** What `facegate train` builds when no --tower is given: the pretrained tower, whose head trains in seconds. */
export const DEFAULT_TOWER: TowerId = 'faceapi-resnet128';

export function isTowerId(id: unknown): id is TowerId {
  return typeof id === 'string' && Object.hasOwn(TOWERS, id);
}

export function towerKind(id: string): TowerKind {
  if (!isTowerId(id)) throw new RangeError(`unknown tower "${id}" (known: ${TOWER_IDS.join(', ')})`);
  return TOWERS[id];
}

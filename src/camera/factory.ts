import { cameraFolder, type Settings } from '../config/index.js';
import type { Logger } from '../log.js';
import type { Camera } from './camera.js';
import { FolderCamera } from './files.js';

/** One case per driver; each driver module is loaded only when chosen. The camera is not started yet. */
export async function createCamera(settings: Settings, log: Logger): Promise<Camera> {
  const cameraLog = log.child({ component: 'camera', driver: settings.camera.driver });
  switch (settings.camera.driver) {
    case 'files':
      return new FolderCamera(cameraFolder(settings), cameraLog);
    case 'rpicam':
      return (await import('./rpicam.js')).createRpicamCamera(settings.camera, cameraLog);
    case 'v4l2':
      return (await import('./v4l2.js')).createV4l2Camera(settings.camera, cameraLog);
    case 'http':
      return (await import('./http.js')).createHttpCamera(settings.camera, cameraLog);
    default:
      throw new Error(`camera driver "${settings.camera.driver}" is not available in this build`);
  }
}
